"""The emergency protocols a clinic starts with (issue 15): anaphylaxis, cardiac arrest, patient fall
and fire evacuation, each a checklist with who does each step. Admins change them, add their own and
retire them on the protocol editor; ``seed_protocols`` adds a starter protocol only when no protocol
with its key exists (the 0018 migration inserts the same four, so a database built by Alembic has
them; ``portal seed`` and tests call this). These are general first-response checklists, for the
clinic to adapt to its own training and local guidance."""

from __future__ import annotations

from sqlmodel import Session, select

from patient_portal.domain.emergency.models import EmergencyProtocol

D, N, F, A = "doctor", "nurse", "front_desk", "anyone"

#: key -> (name, description, notify the contacts on start, [(step, who)])
STARTER: dict[str, tuple[str, str, bool, list[tuple[str, str]]]] = {
    "anaphylaxis": (
        "Anaphylaxis",
        "Sudden allergic reaction with breathing, circulation or swelling problems.",
        True,
        [("Call for help and stay with the patient", A),
         ("Stop the suspected trigger (injection, infusion, latex)", N),
         ("Give adrenaline (epinephrine) 0.5 mg IM into the outer thigh", D),
         ("Call 911 and say it is anaphylaxis", F),
         ("Lay the patient flat with legs raised (sitting up if breathing is hard)", N),
         ("Give high-flow oxygen; check airway and breathing", N),
         ("Repeat adrenaline after 5 minutes if there is no improvement", D),
         ("Record vital signs every 5 minutes", N),
         ("Meet the ambulance at the entrance and guide the crew in", F),
         ("Hand over to the paramedics with the times of each dose", D)],
    ),
    "cardiac_arrest": (
        "Cardiac arrest",
        "The patient is unresponsive and not breathing normally.",
        True,
        [("Check response and breathing; shout for help", A),
         ("Call 911 and bring the AED and the emergency cart", F),
         ("Check the critical-information banner for code status (DNR, POLST)", D),
         ("Start chest compressions, 100-120 a minute, 5-6 cm deep", A),
         ("Attach the AED and follow its prompts", N),
         ("Give breaths with the bag-valve mask, 30 compressions to 2 breaths", N),
         ("Give adrenaline 1 mg IV or IO every 3-5 minutes", D),
         ("Change the person doing compressions every 2 minutes", A),
         ("Record the time of each shock and each drug", N),
         ("Meet the paramedics and guide them in", F)],
    ),
    "patient_fall": (
        "Patient fall",
        "A patient has fallen in the clinic.",
        True,
        [("Do not move the patient; check response and breathing", A),
         ("Call a clinician to the patient", A),
         ("Check for head injury, bleeding, pain and deformity", D),
         ("Check vital signs and blood glucose", N),
         ("Check whether the patient takes blood thinners", D),
         ("Suspected neck, back or hip injury: keep still and call 911", D),
         ("Help the patient up with two people once cleared", N),
         ("Write down the time, the place and any witnesses", F)],
    ),
    "fire_evacuation": (
        "Fire evacuation",
        "Fire or smoke: move the patient to the assembly point.",
        False,
        [("Raise the alarm and call 911", A),
         ("Stop any procedure safely and stay with the patient", N),
         ("Move the patient out by the nearest safe exit (no elevators)", A),
         ("Bring portable oxygen only if it is safe to", N),
         ("Check rooms and restrooms on the way out and close the doors", F),
         ("Take the day's appointment list to the assembly point", F),
         ("Account for the patient at the assembly point and tell the fire marshal", F),
         ("Check the patient for smoke inhalation and injuries", D)],
    ),
}


def starter_rows() -> list[dict]:
    """The starter protocols as table rows (without ids and times)."""
    return [{"key": key, "name": name, "description": description, "notify_contacts": notify,
             "steps": [{"text": text, "who": who} for text, who in steps]}
            for key, (name, description, notify, steps) in STARTER.items()]


def seed_protocols(session: Session) -> int:
    """Add the starter protocols that are missing (by key); returns how many were added."""
    have = set(session.exec(select(EmergencyProtocol.key)).all())
    added = 0
    for row in starter_rows():
        if row["key"] not in have:
            session.add(EmergencyProtocol(**row))
            added += 1
    return added
