"""The front door: the HTTP service Port calls when someone clicks an action."""
