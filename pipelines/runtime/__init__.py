"""Runtimes that feed the projection core: the embedded runner and the Faust app's stages."""
