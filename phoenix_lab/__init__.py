"""phoenix-lab: a Phoenix Hypervisor on one machine (real LXC, nginx, TLS, nftables, netns; emulated PVE control plane)."""
