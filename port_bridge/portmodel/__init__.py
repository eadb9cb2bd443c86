"""The project's Port model as code: blueprints, actions and scorecards pushed to Port by ``apply``."""
