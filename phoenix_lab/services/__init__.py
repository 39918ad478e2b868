"""Services that run inside the lab's containers (pushed into each CT under /opt/phoenix-lab/services)."""
