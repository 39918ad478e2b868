"""Templates carry their snapshot; every clone's source still has the snapshot it was cloned from."""
import pytest

from phoenix_model.inventory import Container
from phoenix_verify.checks import lxc
from phoenix_verify.suite import live, params

pytestmark = [pytest.mark.lxc, pytest.mark.rung("ct-config")]
INV = params.inventory()


@pytest.mark.remediate("template-snapshot.sh", "{ctid}")
@pytest.mark.parametrize("ct", params.cts(lambda ct: bool(ct.template_snapshot)))
def test_template_has_snapshot(ct: Container) -> None:
    assert lxc.template_snapshot(ct, live.snapshots(ct.ctid)) == []


CLONES = [  # the snapshot lives on the source, so the test is marked with the source's CTID
    pytest.param(ct, id=f"{ct.slug}-source-ct{ct.clone_from}",
                 marks=[pytest.mark.ctid(ct.clone_from, n=ct.clone_from), pytest.mark.remediate("template-snapshot.sh", str(ct.clone_from))])
    for ct in INV.containers.values() if ct.clone_from is not None
]


@pytest.mark.parametrize("ct", CLONES)
def test_clone_source_has_parent_snapshot(ct: Container) -> None:
    source = INV.container(ct.clone_from)
    assert lxc.clone_source(ct, source, live.snapshots(source.ctid)) == []
