"""Ground floor: the declared Phoenix model (inventory) and the Proxmox formats, shared by the suite and the lab."""
