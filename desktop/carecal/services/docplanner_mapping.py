"""Mapping Docplanner's resource tree to Carecal: facilities -> doctors -> addresses -> address
services, each address to a Carecal calendar and each of its services to a service type.

An in-person address and an online-only one (``with=address.online_only``) are separate
addresses with their own service ids, so they are separate mappings; addresses taking visit
payments (``with=address.visit_payment``) are marked. Service ids can change (a doctor deletes a
service and adds an identical one): ``remap_services`` carries a mapping over to the new id by
the dictionary service id, else by name, and makes every day publish again.

Threads: ``list_tree`` and ``refresh_services`` are coroutines on the sync worker's (or a
private) loop; the rest run on the Repository's thread and raise StoreError besides the errors
they name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from carecal.domain.errors import NotFound, PermanentItemError, ValidationError
from carecal.domain.models import Account, Calendar, ServiceType, new_id
from carecal.providers.docplanner_types import Address, AddressService, Doctor, Facility, items
from carecal.store.docplanner import AddressMapping, DocplannerStore, ServiceMapping
from carecal.store.repo import Repository

if TYPE_CHECKING:
    from carecal.providers.docplanner_api import DocplannerApi

ADDRESS_SCOPES = "address.online_only,address.visit_payment,address.commercial_type"


@dataclass(frozen=True, slots=True)
class TreeAddress:
    """One address as Docplanner lists it, with its place in the tree and its services."""

    facility: Facility
    doctor: Doctor
    address: Address
    services: tuple[AddressService, ...] = field(default=())

    @property
    def path(self) -> str:
        from carecal.providers.docplanner_api import path_of

        return path_of(self.facility.id, self.doctor.id, self.address.id)


async def list_tree(api: DocplannerApi) -> list[TreeAddress]:
    """Every address the API client may see, with its services. A facility or doctor the
    client may not read (403) is skipped. Raises AuthExpired, TransientError, RemoteError."""
    from urllib.parse import quote

    out: list[TreeAddress] = []
    for facility in map(Facility.of, items(await api.get("/facilities"))):
        fpath = f"/facilities/{quote(facility.id, safe='')}"
        try:
            doctors = [Doctor.of(d) for d in items(await api.get(f"{fpath}/doctors"))]
        except PermanentItemError:
            continue
        for doctor in doctors:
            dpath = f"{fpath}/doctors/{quote(doctor.id, safe='')}"
            try:
                listed = items(await api.get(f"{dpath}/addresses", {"with": ADDRESS_SCOPES}))
            except PermanentItemError:
                continue
            for address in map(Address.of, listed):
                node = TreeAddress(facility, doctor, address)
                try:
                    services = tuple(
                        AddressService.of(s) for s in items(await api.get(f"{node.path}/services"))
                    )
                except PermanentItemError:
                    services = ()
                out.append(TreeAddress(facility, doctor, address, services))
    return out


async def fetch_services(api: DocplannerApi, mapping: AddressMapping) -> list[AddressService]:
    """The address's services as Docplanner lists them now. Raises as ``list_tree``."""
    from carecal.providers.docplanner_api import path_of

    path = path_of(mapping.facility_id, mapping.doctor_id, mapping.address_id)
    return [AddressService.of(s) for s in items(await api.get(f"{path}/services"))]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def find_node(tree: Sequence[TreeAddress], address_id: str) -> TreeAddress:
    """The listed address with this id. Raises NotFound naming the ones listed."""
    for node in tree:
        if node.address.id == address_id:
            return node
    known = ", ".join(n.address.id for n in tree) or "none"
    raise NotFound(f"Docplanner lists no address {address_id} for this client (found: {known})")


def _service_by_name(services: Sequence[ServiceType], name: str) -> ServiceType | None:
    wanted = " ".join(name.split()).casefold()
    return next((s for s in services if s.name.casefold() == wanted), None)


def map_address(
    repo: Repository,
    account: Account,
    node: TreeAddress,
    calendar: Calendar,
    *,
    choices: Mapping[str, str] | None = None,
    create_services: bool = False,
    actor: str,
    now: datetime | None = None,
) -> tuple[AddressMapping, list[ServiceMapping]]:
    """Map ``node``'s address to ``calendar`` and its services to service types: ``choices``
    (address service id -> service type name) first, else a service type of the same name,
    else (``create_services``) a new one with Docplanner's name, duration and price, else none.
    Mapping again replaces the previous choice. Raises ValidationError (read-only calendar,
    unknown service type or address service id)."""
    if calendar.read_only:
        raise ValidationError(f"the calendar {calendar.name!r} is read-only")
    choices = dict(choices or {})
    offered = {s.id for s in node.services}
    unknown = [k for k in choices if k not in offered]
    if unknown:
        raise ValidationError(
            f"address {node.address.id} has no service {', '.join(unknown)} "
            f"(it has: {', '.join(sorted(offered)) or 'none'})"
        )
    when = now or _utcnow()
    store = DocplannerStore(repo)
    types = repo.list_services()
    mapped: list[ServiceMapping] = []
    before = store.address(account.id, node.address.id)  # a re-map keeps the publishing mode
    mapping = AddressMapping(
        account_id=account.id,
        address_id=node.address.id,
        facility_id=node.facility.id,
        doctor_id=node.doctor.id,
        name=node.address.label,
        online_only=node.address.is_online_only,
        visit_payment=node.address.visit_payment,
        commercial_type=node.address.commercial_type,
        calendar_id=calendar.id,
        publish_mode=before.publish_mode if before else "slots",
    )
    with store.transaction():
        for svc in node.services:
            chosen: ServiceType | None
            if svc.id in choices:
                chosen = _service_by_name(types, choices[svc.id])
                if chosen is None:
                    raise ValidationError(f"no service type named {choices[svc.id]!r}")
            else:
                chosen = _service_by_name(types, svc.name)
            if chosen is None and create_services:
                chosen = ServiceType(
                    id=new_id(),
                    name=svc.name,
                    duration_minutes=svc.duration or 50,
                    price=Decimal(svc.price) if svc.price is not None else None,
                    online=node.address.is_online_only,
                )
                repo.save_service(chosen, actor=actor)
                types.append(chosen)
            mapped.append(_service_mapping(account.id, node.address.id, svc, chosen))
        store.replace_services(account.id, node.address.id, mapped)
        store.save_address(mapping, when)
        store.forget_published(account.id, node.address.id)
        store.set_state(account.id, needs_reconcile=True)  # its bookings so far: listed next
    return mapping, mapped


def _service_mapping(
    account_id: str, address_id: str, svc: AddressService, chosen: ServiceType | None
) -> ServiceMapping:
    return ServiceMapping(
        account_id=account_id,
        address_id=address_id,
        address_service_id=svc.id,
        service_id=svc.service_id,
        name=svc.name,
        duration=svc.duration,
        price=svc.price,
        service_type_id=chosen.id if chosen else None,
    )


def unmap_address(repo: Repository, account: Account, address_id: str) -> None:
    """Stop mapping an address (nothing is published for it any more; its appointments stay).
    Raises NotFound."""
    store = DocplannerStore(repo)
    mapping = store.require_address(account.id, address_id)
    with store.transaction():
        store.save_address(
            AddressMapping(**{**_fields(mapping), "calendar_id": None}),  # type: ignore[arg-type]
            _utcnow(),
        )
        store.forget_published(account.id, address_id)


def _fields(mapping: AddressMapping) -> dict[str, object]:
    return {name: getattr(mapping, name) for name in AddressMapping.__slots__}


def remap_services(
    repo: Repository,
    account_id: str,
    address_id: str,
    fresh: Sequence[AddressService],
) -> bool:
    """Bring an address's service mappings up to Docplanner's current list: known ids keep
    their service type, a new id takes over the mapping of a removed service with the same
    dictionary id or name, services gone are kept as deleted (a later re-add finds them).
    Returns whether anything changed (the days whose slots name a changed id differ from what
    was published, so the next publish sends them)."""
    store = DocplannerStore(repo)
    before = store.services(account_id, address_id)
    by_id = {m.address_service_id: m for m in before}
    types = repo.list_services()
    changed = False
    with store.transaction():
        fresh_ids = {s.id for s in fresh}
        for svc in fresh:
            known = by_id.get(svc.id)
            if known is not None:
                updated = ServiceMapping(
                    account_id,
                    address_id,
                    svc.id,
                    svc.service_id or known.service_id,
                    svc.name,
                    svc.duration if svc.duration is not None else known.duration,
                    svc.price,
                    known.service_type_id,
                )
                if updated != known:
                    store.save_service(updated)
                    changed = True
                continue
            heir = next(
                (
                    m
                    for m in before
                    if m.address_service_id not in fresh_ids
                    and m.service_type_id is not None
                    and (
                        (svc.service_id and m.service_id == svc.service_id)
                        or m.name.casefold() == svc.name.casefold()
                    )
                ),
                None,
            )
            chosen = heir.service_type_id if heir else None
            if chosen is None:
                match = _service_by_name(types, svc.name)
                chosen = match.id if match else None
            store.save_service(
                ServiceMapping(
                    account_id,
                    address_id,
                    svc.id,
                    svc.service_id,
                    svc.name,
                    svc.duration,
                    svc.price,
                    chosen,
                )
            )
            changed = True
        for old in before:
            if old.address_service_id not in fresh_ids and not old.deleted:
                store.save_service(
                    ServiceMapping(**{**_svc_fields(old), "deleted": True})  # type: ignore[arg-type]
                )
                changed = True
    return changed


def _svc_fields(mapping: ServiceMapping) -> dict[str, object]:
    return {name: getattr(mapping, name) for name in ServiceMapping.__slots__}
