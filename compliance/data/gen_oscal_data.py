#!/usr/bin/env python3
"""Writes the OSCAL control data of compliance/data from the tables below.

    python3 compliance/data/gen_oscal_data.py   # rewrites the JSON files

Control titles are one-line summaries in VirtEngine's own words; they are not
the AICPA Trust Services Criteria text (copyrighted) nor the GDPR's wording.
UUIDs are derived from the ids (uuid4 format, SHA-256 based) so a re-run gives
identical files.
"""
import hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
NS = "https://virtengine.invalid/ns/oscal"
PUBLISHED = "2026-12-03T00:00:00Z"

def uid(name):
    b = bytearray(hashlib.sha256(("virtengine.compliance.data\0" + name).encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

SOC2 = [
  ("cc1", "Control environment", [
    ("CC1.1", "Leadership shows it values integrity and ethical conduct"),
    ("CC1.2", "A governing body oversees internal control independently of management"),
    ("CC1.3", "Management sets structures, reporting lines, authority and responsibility"),
    ("CC1.4", "The organisation hires, develops and keeps competent people"),
    ("CC1.5", "People are held accountable for their internal control duties")]),
  ("cc2", "Communication and information", [
    ("CC2.1", "Relevant, good-quality information is produced and used for control"),
    ("CC2.2", "Control objectives and duties are communicated inside the organisation"),
    ("CC2.3", "Matters affecting control are communicated with outside parties")]),
  ("cc3", "Risk assessment", [
    ("CC3.1", "Objectives are stated clearly enough for risks to them to be found"),
    ("CC3.2", "Risks to objectives are identified and analysed"),
    ("CC3.3", "The chance of fraud is considered when assessing risk"),
    ("CC3.4", "Changes that could weaken internal control are identified and assessed")]),
  ("cc4", "Monitoring activities", [
    ("CC4.1", "Ongoing or separate evaluations confirm that controls are present and working"),
    ("CC4.2", "Control deficiencies are reported to those who can fix them, in time")]),
  ("cc5", "Control activities", [
    ("CC5.1", "Control activities are chosen and built to bring risks to acceptable levels"),
    ("CC5.2", "General controls over technology are chosen and built"),
    ("CC5.3", "Policies and procedures put control activities into practice")]),
  ("cc6", "Logical and physical access", [
    ("CC6.1", "Logical access to systems and data is restricted and protected"),
    ("CC6.2", "Users are registered and authorised before they get access"),
    ("CC6.3", "Access is granted, changed and removed by role and least privilege"),
    ("CC6.4", "Physical access to facilities and equipment is restricted"),
    ("CC6.5", "Retired assets are disposed of so their data cannot be recovered"),
    ("CC6.6", "Threats from outside the system boundary are guarded against"),
    ("CC6.7", "Data moving into, out of or within the system is restricted and protected"),
    ("CC6.8", "Unauthorised or malicious software is prevented or detected")]),
  ("cc7", "System operations", [
    ("CC7.1", "Configuration changes and newly found vulnerabilities are detected"),
    ("CC7.2", "Components are monitored for signs of attacks, errors and anomalies"),
    ("CC7.3", "Security events are evaluated to decide whether they are incidents"),
    ("CC7.4", "Incidents are handled through a defined response programme"),
    ("CC7.5", "Recovery from incidents is planned and carried out")]),
  ("cc8", "Change management", [
    ("CC8.1", "Changes to infrastructure, data and software are authorised, tested and approved")]),
  ("cc9", "Risk mitigation", [
    ("CC9.1", "Risks of business disruption are identified and mitigated"),
    ("CC9.2", "Risks from vendors and business partners are assessed and managed")]),
  ("a1", "Availability", [
    ("A1.1", "Capacity is planned and managed to meet availability commitments"),
    ("A1.2", "Environmental protection, backups and recovery infrastructure are in place"),
    ("A1.3", "Recovery procedures are tested")]),
  ("c1", "Confidentiality", [
    ("C1.1", "Confidential information is identified and protected"),
    ("C1.2", "Confidential information is disposed of as committed")]),
  ("pi1", "Processing integrity", [
    ("PI1.1", "Specifications of the processing are defined and communicated"),
    ("PI1.2", "Inputs to processing are complete and accurate"),
    ("PI1.3", "Processing is complete, accurate and timely"),
    ("PI1.4", "Outputs are complete, accurate and delivered only to intended parties"),
    ("PI1.5", "Stored inputs, items in process and outputs stay complete and accurate")]),
  ("p", "Privacy", [
    ("P1.1", "Data subjects are told how their personal data is handled"),
    ("P2.1", "Choices about personal data are offered and consent is recorded"),
    ("P3.1", "Personal data is collected only for the stated purposes"),
    ("P3.2", "Explicit consent is obtained where it is required"),
    ("P4.1", "Personal data is used only for the stated purposes"),
    ("P4.2", "Personal data is kept no longer than needed"),
    ("P4.3", "Personal data is disposed of securely"),
    ("P5.1", "Data subjects can see the personal data held about them"),
    ("P5.2", "Data subjects can have their personal data corrected"),
    ("P6.1", "Personal data goes to third parties only for stated purposes and with consent"),
    ("P6.2", "Authorised disclosures of personal data are recorded"),
    ("P6.3", "Unauthorised disclosures of personal data are recorded"),
    ("P6.4", "Third parties' privacy commitments are obtained and monitored"),
    ("P6.5", "Third parties report unauthorised disclosures they learn of"),
    ("P6.6", "Affected people and authorities are notified of breaches"),
    ("P6.7", "Data subjects can get an account of their data held and disclosed"),
    ("P7.1", "Personal data is kept accurate, complete and relevant"),
    ("P8.1", "Privacy questions, complaints and disputes are received and resolved")]),
]

GDPR = [
  ("gdpr-art5", "Art. 5", "Processing follows the core principles: lawful, limited, minimal, accurate, time-limited, secure, accountable"),
  ("gdpr-art6", "Art. 6", "Every processing activity has a legal basis"),
  ("gdpr-art15", "Art. 15", "Data subjects can obtain a copy of their personal data"),
  ("gdpr-art16", "Art. 16", "Data subjects can have inaccurate data corrected"),
  ("gdpr-art17", "Art. 17", "Data subjects can have their personal data erased"),
  ("gdpr-art20", "Art. 20", "Data subjects can take their data elsewhere in a usable format"),
  ("gdpr-art25", "Art. 25", "Data protection is built into the design and the defaults"),
  ("gdpr-art28", "Art. 28", "Processors act only on documented instructions under a contract"),
  ("gdpr-art30", "Art. 30", "Records of processing activities are kept"),
  ("gdpr-art32", "Art. 32", "Processing is secured with measures fitting the risk"),
  ("gdpr-art33", "Art. 33", "Breaches are reported to the supervisory authority in time"),
  ("gdpr-art34", "Art. 34", "High-risk breaches are communicated to the people affected"),
  ("gdpr-art35", "Art. 35", "High-risk processing gets a data protection impact assessment"),
]

# check id -> (description, [control ids])
CHECKS = {
  "crypto.policy": ("Crypto policy file valid and equal to the policy security/crypto enforces.",
                    ["cc6.1", "cc6.7", "gdpr-art32"]),
  "seccomp.daemons": ("Every daemon in seccomp filter mode with its production profile.",
                      ["cc6.8", "gdpr-art25", "gdpr-art32"]),
  "exec.allowlists": ("Command allowlists and path roots valid; hashes recorded.",
                      ["cc5.2", "cc6.8"]),
  "tls.settings": ("Mutual TLS 1.3 on every listener.", ["cc6.6", "cc6.7", "gdpr-art32"]),
  "audit.chain": ("Audit log hash chain verifies end to end.", ["cc4.1", "cc7.2", "gdpr-art32"]),
  "audit.anchor": ("Audit head anchored in the ledger matches the local log.", ["cc7.2", "pi1.5"]),
  "backup.recent": ("A recent encrypted key-store backup exists.", ["a1.2", "gdpr-art32"]),
  "backup.restore_drill": ("A restore drill was recorded recently.", ["a1.3"]),
  "keys.rotation": ("Active keys are younger than the rotation period.", ["cc6.1"]),
  "mfa.enforced": ("MFA required for gated messages.", ["cc6.1"]),
  "retention.rules": ("Retention rules configured; erasures counted.",
                      ["c1.2", "p4.2", "p4.3", "gdpr-art5", "gdpr-art17"]),
  "openscap.scan": ("OpenSCAP profile evaluated; rule results mapped through their references.",
                    ["cc7.1"]),
  "licenses.audit": ("Installed packages' licences within the allowlist.", ["cc9.2"]),
}

def catalog(title, groups, file_id):
    return {"catalog": {
        "uuid": uid(file_id),
        "metadata": {
            "title": title, "published": PUBLISHED, "last-modified": PUBLISHED,
            "version": "1.0.0", "oscal-version": "1.2.1",
            "remarks": "Control ids follow the public numbering; titles are VirtEngine's own one-line summaries, not the source text."},
        "groups": groups}}

def ctl(cid, label, title):
    return {"id": cid, "title": title,
            "props": [{"name": "label", "value": label}]}

def main():
    soc2_groups = []
    for gid, gtitle, items in SOC2:
        soc2_groups.append({"id": "soc2-" + gid, "title": gtitle,
                            "controls": [ctl(l.lower(), l, t) for l, t in items]})
    gdpr_groups = [{"id": "gdpr", "title": "GDPR articles relevant to the appliance",
                    "controls": [ctl(i, l, t) for i, l, t in GDPR]}]
    write("catalog-soc2.json", catalog("VirtEngine SOC 2 Trust Services Criteria index", soc2_groups, "catalog-soc2"))
    write("catalog-gdpr.json", catalog("VirtEngine GDPR article index", gdpr_groups, "catalog-gdpr"))

    by_control = {}
    for check, (desc, ctls) in CHECKS.items():
        for c in ctls:
            by_control.setdefault(c, []).append(check)
    soc2_ids = [l.lower() for _, _, items in SOC2 for l, _ in items]
    gdpr_ids = [i for i, _, _ in GDPR]
    impls = []
    for source, ids in (("catalog-soc2.json", soc2_ids), ("catalog-gdpr.json", gdpr_ids)):
        reqs = []
        for cid in ids:
            if cid not in by_control:
                continue
            checks = by_control[cid]
            reqs.append({
                "uuid": uid("req/" + cid),
                "control-id": cid,
                "description": "Implemented by the automated check(s): " + "; ".join(
                    f"{c} ({CHECKS[c][0]})" for c in checks),
                "props": [{"name": "check", "ns": NS, "value": c} for c in checks]})
        impls.append({"uuid": uid("impl/" + source), "source": source,
                      "description": "Controls the appliance's automated checks implement. Controls of the catalog not listed here need manual evidence (INTERVIEW/EXAMINE).",
                      "implemented-requirements": reqs})
    comp = {"component-definition": {
        "uuid": uid("component-definition"),
        "metadata": {"title": "VirtEngine appliance: automated compliance checks",
                     "published": PUBLISHED, "last-modified": PUBLISHED,
                     "version": "1.0.0", "oscal-version": "1.2.1"},
        "components": [{
            "uuid": uid("component/appliance"), "type": "software",
            "title": "VirtEngine appliance",
            "description": "The immutable appliance image with ve-node and its evidence generator (compliance/, ve-evidence).",
            "props": [{"name": "check", "ns": NS, "value": c, "remarks": CHECKS[c][0]} for c in CHECKS],
            "control-implementations": impls}]}}
    write("component-definition.json", comp)

    mappings = {"format": "virtengine.scap-reference-mappings.v1",
                "description": "XCCDF rule references (href substring + reference id prefix) mapped to VirtEngine control ids. A rule maps to the union of its references' controls.",
                "mappings": [
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.9.", "controls": ["cc6.1", "cc6.3"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.12.4", "controls": ["cc7.2"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.12.5", "controls": ["cc6.8"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.12.6", "controls": ["cc7.1"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.12.1.2", "controls": ["cc8.1"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.13.", "controls": ["cc6.6", "cc6.7"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.14.2", "controls": ["cc8.1"]},
        {"href_contains": "iso.org/contents/data/standard/05/45/54534", "id_prefix": "A.8.2.3", "controls": ["c1.1"]},
        {"href_contains": "NIST.SP.800-171", "id_prefix": "3.1.", "controls": ["cc6.1"]},
        {"href_contains": "NIST.SP.800-171", "id_prefix": "3.3.", "controls": ["cc7.2"]},
        {"href_contains": "NIST.SP.800-171", "id_prefix": "3.4.", "controls": ["cc7.1", "cc8.1"]},
        {"href_contains": "NIST.SP.800-171", "id_prefix": "3.5.", "controls": ["cc6.1"]},
        {"href_contains": "NIST.SP.800-171", "id_prefix": "3.13.", "controls": ["cc6.6", "cc6.7"]},
        {"href_contains": "NIST.SP.800-171", "id_prefix": "3.14.", "controls": ["cc6.8", "cc7.1"]},
        {"href_contains": "pcisecuritystandards.org", "id_prefix": "2.", "controls": ["cc7.1"]},
        {"href_contains": "pcisecuritystandards.org", "id_prefix": "8.", "controls": ["cc6.1"]},
        {"href_contains": "pcisecuritystandards.org", "id_prefix": "10.", "controls": ["cc7.2"]},
        {"href_contains": "cyber.gouv.fr", "id_prefix": "R", "controls": ["cc7.1"]},
        {"href_contains": "cisecurity.org", "id_prefix": "", "controls": ["cc7.1"]}]}
    write("mappings/scap-references.json", mappings)

def write(name, doc):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")

if __name__ == "__main__":
    main()
