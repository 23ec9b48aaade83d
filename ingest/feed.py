"""Parser for the IfATE / Skills England apprenticeship-standards feed: JSON, one standard or an array.

Field names are the API's (see das-courses-api, ImportTypes/SkillsEngland/Apprenticeship.cs). KSB
codes are the type letter plus the position in the list, K1 first, as DAS derives them (Entities/Ksb.cs);
the duties' mappedKnowledge / mappedSkills / mappedBehaviour GUIDs resolve to those codes, and the
GUIDs stay on duties and KSBs as dcterms:identifier. Evidence is a JSON Pointer (RFC 6901) per entity.

When a document holds several versions of one standard, the latest is written under the unversioned
IRIs and each older one under /id/standard/{ST}/v{x.y}, with dcterms:isVersionOf the unversioned one.
A value the model cannot take becomes an extraction issue; a document whose structure is wrong (a duty
without dutyDetail, a KSB entry that is not an object) is a FeedError naming the JSON Pointer.
"""

from __future__ import annotations

import re

from rdflib import Graph, URIRef

from ingest.feed_reader import FeedError, read_feed, scan_versions
from ingest.manifest import Source
from ingest.model import StandardWriter, reference_from_occupation
from ingest.provenance import Pointer, Provenance
from ingest.standard_page import status_slug
from kimdata.namespaces import DCTERMS, FOAF, KIM, SCHEMA, XSD, Iris, slugify

__all__ = ["FeedError", "FeedWriter", "latest_versions", "parse_feed"]

KSB_LISTS = (("K", "knowledges", "knowledgeId"), ("S", "skills", "skillId"), ("B", "behaviours", "behaviourId"))
MAPPINGS = (("K", "mappedKnowledge"), ("S", "mappedSkills"), ("B", "mappedBehaviour"))
KSB_NAMES = {"K": "knowledge", "S": "skill", "B": "behaviour"}
APPROVALS = {"proposalApproved": "proposal", "standardApproved": "occupational-standard",
             "epaApprovalDate": "end-point-assessment-plan", "fundingApprovalDate": "funding"}
TEXTS = (("title", DCTERMS.title), ("overviewOfRole", KIM.overviewOfRole),
         ("entryRequirements", KIM.entryRequirements), ("englishAndMathsQualifications", KIM.englishAndMaths))
PERIODS = (("typicalDuration", KIM.typicalDuration, KIM.typicalDurationMonths),
           ("ePALength", KIM.epaPeriod, KIM.epaPeriodMonths))
DATES = (("approvedForDelivery", DCTERMS.dateAccepted), ("lastUpdated", DCTERMS.modified))
REFERENCE = re.compile(r"^[A-Za-z0-9]+$")  # what an IRI path segment can hold; R02 checks the ST#### form
OCCUPATION = re.compile(r"^OCC\d{4}$")
VERSION = re.compile(r"^\d+(\.\d+)*$")
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T[0-9:.]*(Z|[+-]\d{2}:\d{2})?)?$")
WEB_ADDRESS = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def _texts(value) -> list[str] | None:
    """A list of strings, or one string of "|"-separated items; None when it is neither."""
    if isinstance(value, str):
        return [item.strip() for item in value.split("|") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item for item in value if item.strip()]
    return None


def _names(value) -> list[str] | None:
    """Organisation names: like ``_texts``, and objects carrying a "name" are taken by their name."""
    if isinstance(value, list):
        value = [item.get("name") if isinstance(item, dict) else item for item in value]
    names = _texts(value)
    return names if names is None or all(slugify(name) for name in names) else None  # a name must mint an IRI


def _whole(value) -> int | None:
    """A whole number given as a JSON number or digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class FeedWriter:
    """Writes the standards of one feed document into a sink, one at a time, as they stream past."""

    def __init__(self, sink, source: Source, iris: Iris, latest: dict[str, int]):
        """``latest`` maps each reference to the position of its latest version (from ``scan_versions``)."""
        self.sink = sink
        self.iris = iris
        self.prov = Provenance(sink, source, iris)
        self.literal = self.prov.literal
        self.latest = latest
        self._written: set[tuple[str, str | None]] = set()

    def describe_source(self, sha256: str | None) -> None:
        self.prov.describe_source(sha256)

    def write(self, index: int, pointer: str, data) -> None:
        """Write the standard found at ``pointer`` (entry ``index`` of the document)."""
        if not isinstance(data, dict):
            raise FeedError(f"expected a standard (a JSON object), found {type(data).__name__}", pointer)
        reference, derived = self._reference(data, pointer)
        version = data.get("version") if data.get("version") is not None else data.get("versionNumber")
        version = None if version is None else str(version)
        older = self.latest.get(reference, index) != index
        if (reference, version) in self._written or (older and not (version and VERSION.match(version))):
            self.prov.issue("duplicate-version", pointer.strip("/") or "document", self.iris.standard(reference),
                            f"{reference} version {version!r} appears more than once (or cannot be told apart "
                            "from its latest version); this entry was not read.", span=Pointer(pointer))
            return
        self._written.add((reference, version))
        writer = StandardWriter(self.sink, self.prov, self.iris, reference, version if older else None)
        self.prov.evidence(writer.standard, Pointer(pointer))
        if derived:
            self.prov.issue("derived-reference", pointer.strip("/") or "document", writer.standard,
                            f"The entry has no referenceNumber; {reference} is derived from its occupationCode.",
                            severity="info", span=Pointer(pointer))
        else:
            writer.identifier(None)
        if version is not None:
            writer.value(KIM.version, self.literal(version), None)
        self._describe(writer, data, pointer)
        codes = self._ksbs(writer, data, pointer)
        self._duties(writer, data, pointer, codes)

    def _reference(self, data: dict, pointer: str) -> tuple[str, bool]:
        """The standard's reference, and whether it was derived from the occupation code."""
        reference = data.get("referenceNumber")
        derived = reference_of(reference, data.get("occupationCode"))
        if derived is not None:
            return derived, derived != reference
        raise FeedError(f"referenceNumber {reference!r} cannot name a standard (expected letters and digits, as ST0499)",
                        f"{pointer}/referenceNumber")

    def _unreadable(self, writer: StandardWriter, pointer: str, field: str, value, expected: str) -> None:
        self.prov.issue(f"unreadable-{field}", f"{pointer.strip('/')}/{field}".strip("/"), writer.standard,
                        f"{field} reads {value!r}; expected {expected}.", span=Pointer(f"{pointer}/{field}"))

    def _describe(self, w: StandardWriter, data: dict, pointer: str) -> None:
        """The standard's own fields; a value of the wrong kind is an extraction issue."""
        literal = self.literal
        for field, prop in TEXTS:
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                w.text(prop, value, None)
            elif value is not None and not isinstance(value, str):
                self._unreadable(w, pointer, field, value, "text")
        if "level" in data and data["level"] is not None:
            level = _whole(data["level"])
            if level is None:
                self._unreadable(w, pointer, "level", data["level"], "a whole number")
            else:
                w.level(level, None)
        status = data.get("status")
        if status is not None:
            slug = status_slug(status) if isinstance(status, str) else None
            if slug:
                w.status(slug, None)
            else:
                self.prov.issue("unknown-status", f"{pointer.strip('/')}/status".strip("/"), w.standard,
                                f"The status reads {status!r}, which is not an IfATE status.",
                                span=Pointer(f"{pointer}/status"))
        route = data.get("route")
        if isinstance(route, str) and slugify(route):
            w.route(route.strip(), None)
        elif route:
            self._unreadable(w, pointer, "route", route, "a route name")
        for field, prop, months_prop in PERIODS:
            if data.get(field) is not None:
                months = _whole(data[field])
                if months is None:
                    self._unreadable(w, pointer, field, data[field], "a whole number of months")
                else:
                    w.months(prop, months_prop, months, None)
        for field, prop in (("typicalJobTitles", KIM.typicalJobTitle), ("keywords", SCHEMA.keywords)):
            if data.get(field) is not None:
                items = _texts(data[field])
                if items is None:
                    self._unreadable(w, pointer, field, data[field], 'a list of strings or a "|"-separated string')
                for item in items or ():
                    w.text(prop, item, None)
        url = data.get("standardPageUrl")
        if isinstance(url, str) and WEB_ADDRESS.match(url):
            w.value(FOAF.page, URIRef(url), None)
        elif url:
            self._unreadable(w, pointer, "standardPageUrl", url, "a web address")
        code = data.get("occupationCode")
        if isinstance(code, str) and OCCUPATION.match(code):
            w.occupation(code, None)
        elif code:
            self._unreadable(w, pointer, "occupationCode", code, "an OCC#### code")
        for field, prop in DATES:
            value = data.get(field)
            date = ISO_DATE.match(value) if isinstance(value, str) else None
            if date:
                w.value(prop, literal(date.group(1), datatype=XSD.date), None)
            elif value is not None:
                self._unreadable(w, pointer, field, value, "an ISO 8601 date")
        for field, step in APPROVALS.items():
            if data.get(field):  # a date (or true): the step has been passed
                w.approval(step, None)
        self._organisations(w, data, pointer)

    def _organisations(self, w: StandardWriter, data: dict, pointer: str) -> None:
        if data.get("involvedEmployers") is not None:
            names = _names(data["involvedEmployers"])
            if names is None:
                self._unreadable(w, pointer, "involvedEmployers", data["involvedEmployers"], "a list of names")
            for name in names or ():
                w.employer(name, None)
        if data.get("professionalRecognition") is not None:
            names = _names(data["professionalRecognition"])
            if names is None:
                self._unreadable(w, pointer, "professionalRecognition", data["professionalRecognition"], "a list of names")
                return
            # The field is there: the standard declares professional recognition, even if it names no body (R16).
            w.value(KIM.declaresProfessionalRecognition, self.literal(True, datatype=XSD.boolean), None)
            for name in names:
                w.value(KIM.professionalRecognition, w.organisation(name, "professional-body", None), None)

    def _ksbs(self, w: StandardWriter, data: dict, pointer: str) -> dict[str, tuple[str, int]]:
        """Write the KSBs, K1.. in list order; returns the code of each GUID (lower-cased)."""
        codes: dict[str, tuple[str, int]] = {}
        for letter, key, id_key in KSB_LISTS:
            for n, entry, at in _entries(data, key, pointer):
                detail = entry.get("detail")
                if not isinstance(detail, str) or not detail.strip():
                    raise FeedError(f"{KSB_NAMES[letter]} {letter}{n} has no detail text", f"{at}/detail")
                guid = entry.get(id_key)
                guid = guid if isinstance(guid, str) and guid else None
                w.ksb(letter, n, detail, Pointer(at), identifier=guid)
                if guid is not None:
                    codes.setdefault(guid.lower(), (letter, n))
        return codes

    def _duties(self, w: StandardWriter, data: dict, pointer: str, codes: dict[str, tuple[str, int]]) -> None:
        for n, entry, at in _entries(data, "duties", pointer):
            detail = entry.get("dutyDetail")
            if not isinstance(detail, str) or not detail.strip():
                raise FeedError(f"duty D{n} has no dutyDetail text", f"{at}/dutyDetail")
            guid = entry.get("dutyID")
            duty = w.duty(n, detail, Pointer(at), identifier=guid if isinstance(guid, str) and guid else None)
            present = listed = False
            for letter, key in MAPPINGS:
                guids = entry.get(key)
                if guids is None:
                    continue
                if not isinstance(guids, list):
                    raise FeedError(f"{key} must be a list of GUIDs", f"{at}/{key}")
                present = True
                for j, mapped in enumerate(guids):
                    code = codes.get(mapped.lower()) if isinstance(mapped, str) else None
                    if code is not None and code[0] == letter:
                        w.mapping(duty, letter, code[1])
                        listed = True
                    else:
                        self._dangling(w, duty, n, key, mapped, code, f"{at}/{key}/{j}")
            w.cell_state(duty, "listed" if listed else "empty" if present else "missing", None)

    def _dangling(self, w, duty: URIRef, n: int, key: str, mapped, code, at: str) -> None:
        what = f"the GUID of {KSB_NAMES[code[0]]} {code[0]}{code[1]}" if code else "no KSB of this standard"
        self.prov.issue("dangling-ksb-reference", at.strip("/"), duty,
                        f"Duty D{n} of {w.reference} lists {mapped!r} in {key}, which is {what}; the mapping was not read.",
                        span=Pointer(at))


def _entries(data: dict, key: str, pointer: str):
    """(number from 1, entry, pointer) for each object of a list field; a missing list is empty."""
    entries = data.get(key)
    if entries is None:
        return
    if not isinstance(entries, list):
        raise FeedError(f"{key} must be a list, found {type(entries).__name__}", f"{pointer}/{key}")
    for i, entry in enumerate(entries):
        at = f"{pointer}/{key}/{i}"
        if not isinstance(entry, dict):
            raise FeedError(f"each entry of {key} must be an object, found {type(entry).__name__}", at)
        yield i + 1, entry, at


def reference_of(reference, occupation) -> str | None:
    """The reference an entry is written under: its referenceNumber, else one derived from its occupationCode."""
    if isinstance(reference, str) and REFERENCE.match(reference):
        return reference
    if reference is None and isinstance(occupation, str) and OCCUPATION.match(occupation):
        return reference_from_occupation(occupation)
    return None


def _version_key(version) -> tuple[int, ...]:
    """Orders "1.10" after "1.9"; a version that is not numbers and dots sorts first."""
    text = None if version is None else str(version)
    return tuple(int(part) for part in text.split(".")) if text and VERSION.match(text) else (-1,)


def latest_versions(entries: list[tuple | None]) -> dict[str, int]:
    """The position of the latest version of each reference (the first, among equal versions)."""
    best: dict[str, tuple[tuple[int, ...], int]] = {}
    for index, entry in enumerate(entries):
        if entry is None:
            continue
        reference_number, occupation, version, version_number = entry
        reference = reference_of(reference_number, occupation)
        if reference is None:
            continue
        key = _version_key(version if version is not None else version_number)
        if reference not in best or key > best[reference][0]:
            best[reference] = (key, index)
    return {reference: index for reference, (_, index) in best.items()}


def parse_feed(source: Source, iris: Iris) -> Graph:
    """Read a (small) feed document into an rdflib graph of its facts and their provenance."""
    graph = Graph()
    entries, sha256 = scan_versions(source.path)
    if source.sha256 and source.sha256 != sha256:
        raise FeedError("checksum differs from the manifest's sha256")
    latest = latest_versions(entries)
    writer = FeedWriter(graph, source, iris, latest)
    writer.describe_source(sha256)
    for index, pointer, data in read_feed(source.path):
        writer.write(index, pointer, data)
    return graph

