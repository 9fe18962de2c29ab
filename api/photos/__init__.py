"""Photos: intake of images, their stored renditions and signed links."""
