"""The reachability matrix on the wire: one cell per (source, destination CT, declared port).

Allowed sources (by the declared rules) must connect; others must be refused or dropped. Each source probes all
its cells in one round trip.
"""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.access import reachability
from phoenix_verify.access.pct_backend import PctError
from phoenix_verify.checks import firewall
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.firewall, pytest.mark.rung("path")]
INV = params.inventory()
CELLS = [
    pytest.param(dest, src, cell, id=f"{dest.slug}-{cell.port}-from-{src.name}",
                 marks=[pytest.mark.ctid(dest.ctid, n=dest.ctid), pytest.mark.remediate("ct-firewall-rules.sh", "{ctid}")])
    for dest, src, cell in reachability.plan(INV, firewall.allowed)
]


@pytest.mark.parametrize(("dest", "src", "cell"), CELLS)
def test_reachability_cell(dest: Container, src: reachability.Source, cell: reachability.Cell, record_property) -> None:
    if live.cluster_firewall().options.get("enable") != 1:
        pytest.skip("the datacenter firewall is disabled: host layer (test_datacenter_firewall_policy)")
    for ctid in (dest.ctid, src.ctid):
        if ctid is not None and live.status(ctid) != "running":
            pytest.skip(f"ct{ctid} is not running: lxc layer (test_exists_and_status_matches_start_at_boot)")
    try:
        seen = reachability.observe(INV, firewall.allowed, src, cell, params.target().pct)
    except PctError as exc:
        pytest.fail(str(exc), pytrace=False)
    record_property("cell", f"{seen.source} -> {seen.destination}:{seen.port} expected={seen.expected} observed={seen.observed}")
    assert firewall.cell(seen) == []
