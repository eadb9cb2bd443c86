"""The project's Port model as code: ``port-bridge apply`` pushes the files to Port, showing the diff.

One run goes through the modules in this order: :mod:`.files` reads ``blueprints/``,
``actions/`` and ``scorecards/`` and checks every body against what Port takes (:mod:`.schema`,
with the project's own rules in :mod:`.bodies`); :mod:`.remote` reads what Port has, and
:mod:`.records` what ``apply`` created there; :mod:`.checks` finds references to blueprints
nobody will have; :mod:`.plan` compares (:mod:`.normalise`, :mod:`.diff`) and decides;
:mod:`.report` prints the plan; :mod:`.execute` writes it in an order Port accepts.
:mod:`.command` is the command itself.
"""
