"""``port-bridge invoke``: a Port run handed to port-bridge from a CI step (a GitHub workflow).

Port's ``GITHUB`` invocation method dispatches a workflow with the run in its inputs; the
workflow runs ``port-bridge invoke``, which checks and stores the run exactly as intake does for
a webhook (:meth:`~port_bridge.intake.service.Intake.receive`) and leaves the rest to the
controller in the cluster; with ``--wait`` it also follows the run to its end in the workflow's
log. :mod:`.source` reads the run, :mod:`.follow` waits on its ActionRun, :mod:`.workflow` and
:mod:`.summary` speak GitHub Actions, :mod:`.command` puts them together.
"""
