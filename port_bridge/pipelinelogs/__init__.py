"""Kratix pipeline Pods' logs in the Port run: found by Kratix's labels, read through ``pods/log``,
masked, bounded and added to the run's journal as they come (:mod:`.collector` says how)."""

from port_bridge.pipelinelogs.collector import PipelineLogOptions, PipelineLogs

__all__ = ["PipelineLogOptions", "PipelineLogs"]
