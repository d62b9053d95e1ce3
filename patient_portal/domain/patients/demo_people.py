"""Synthetic people for the demo clinic: one made-up person per index, the same on every machine.

``people(count, today)`` returns the clinic's generated patients as registration drafts (the form
strings the wizard would collect), so they go through the same validation and services as a real
registration. Person ``i`` depends only on ``i`` and ``today``: names come from Faker (``en_US``,
seeded with the index), everything else from ``random.Random`` seeded with the index, so every demo
is the same clinic and a larger seed only adds people after the existing ones. Dates are relative
to ``today`` (a flu shot this season, a lab result last spring).

Nobody real is reachable: phones are in the fictional 555-0100…0199 range (never area code 617, which
the hand-written demo patients and the browser tests use), emails are at the reserved example.com,
.net and .org domains. Conditions carry ICD-10-CM codes, vaccines CVX codes and medicines RxNorm-style
names (with the RxCUI where it is a well-known one): realistic demo data, not a clinical reference.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from patient_portal.domain.demo import seeded
from patient_portal.domain.patients import mrn
from patient_portal.domain.patients.registration import RegistrationDraft

FAKER_SEED = 20260101
#: Family names of the hand-written demo patients: generated people never share them, so a search for
#: "Garcia" finds the demo patient account's record and nobody else.
RESERVED_FAMILIES = frozenset({"Garcia", "Okafor", "Tanaka"})
#: MRN bodies of the hand-written demo patients (see patients/demo.py).
RESERVED_MRN_BODIES = frozenset({"1000001", "1000002", "1000003"})

#: Area codes around the clinic (Greater Boston and the rest of Massachusetts), 617 left out.
AREA_CODES = ("508", "781", "978", "857", "339", "413", "774", "351")
PHONES_PER_PERSON = 4  # mobile, home, two emergency contacts

TOWNS = (  # (city, ZIP), weighted towards the city
    ("Boston", "02118"), ("Boston", "02130"), ("Boston", "02125"), ("Boston", "02135"), ("Boston", "02127"),
    ("Cambridge", "02139"), ("Cambridge", "02140"), ("Somerville", "02143"), ("Somerville", "02145"),
    ("Brookline", "02446"), ("Newton", "02458"), ("Quincy", "02169"), ("Medford", "02155"),
    ("Malden", "02148"), ("Everett", "02149"), ("Chelsea", "02150"), ("Revere", "02151"),
    ("Watertown", "02472"), ("Arlington", "02474"), ("Waltham", "02453"), ("Milton", "02186"),
    ("Dedham", "02026"), ("Lynn", "01902"), ("Framingham", "01702"), ("Brockton", "02301"),
)
STREETS = (
    "Washington Street", "Centre Street", "Beacon Street", "Tremont Street", "Columbus Avenue",
    "Highland Avenue", "Elm Street", "Maple Avenue", "Pleasant Street", "School Street", "Summer Street",
    "Broadway", "Main Street", "Park Street", "Chestnut Street", "Walnut Street", "Prospect Street",
    "Harvard Street", "Cedar Street", "Union Street", "Adams Street", "Central Avenue", "Boylston Street",
    "Cambridge Street", "Salem Street", "Franklin Street", "Hancock Street", "Lincoln Street",
    "Spring Street", "Willow Avenue", "Oak Street", "Pine Street", "Forest Hills Street", "River Street",
)
LANGUAGES = (("English", 84), ("Spanish", 9), ("Portuguese", 3), ("Haitian Creole", 2), ("Vietnamese", 1),
             ("Chinese (Cantonese)", 1))

# Conditions: (ICD-10-CM code, official description, chance per age band: <18, 18-44, 45-64, 65+).
CONDITIONS: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("I10", "Essential (primary) hypertension", (0, .08, .35, .60)),
    ("E11.9", "Type 2 diabetes mellitus without complications", (0, .04, .14, .22)),
    ("E78.5", "Hyperlipidemia, unspecified", (0, .08, .30, .45)),
    ("J45.909", "Unspecified asthma, uncomplicated", (.10, .08, .07, .06)),
    ("K21.9", "Gastro-esophageal reflux disease without esophagitis", (.01, .10, .18, .20)),
    ("F32.9", "Major depressive disorder, single episode, unspecified", (.02, .10, .09, .07)),
    ("F41.1", "Generalized anxiety disorder", (.04, .10, .08, .05)),
    ("E03.9", "Hypothyroidism, unspecified", (0, .04, .08, .14)),
    ("M19.90", "Unspecified osteoarthritis, unspecified site", (0, .02, .15, .35)),
    ("E66.9", "Obesity, unspecified", (.08, .15, .20, .15)),
    ("J30.9", "Allergic rhinitis, unspecified", (.12, .12, .08, .05)),
    ("G43.909", "Migraine, unspecified, not intractable, without status migrainosus", (.02, .08, .05, .02)),
    ("M54.50", "Low back pain, unspecified", (0, .08, .10, .10)),
    ("L20.9", "Atopic dermatitis, unspecified", (.10, .02, .01, .01)),
    ("F90.9", "Attention-deficit hyperactivity disorder, unspecified type", (.08, .03, 0, 0)),
    ("I48.91", "Unspecified atrial fibrillation", (0, 0, .02, .09)),
    ("N18.30", "Chronic kidney disease, stage 3 unspecified", (0, 0, .03, .12)),
    ("J44.9", "Chronic obstructive pulmonary disease, unspecified", (0, .01, .04, .09)),
    ("D50.9", "Iron deficiency anemia, unspecified", (.02, .04, .03, .04)),
)
#: Conditions a child grows out of often enough to show as resolved.
OFTEN_RESOLVED = {"J45.909": .3, "L20.9": .5, "D50.9": .5, "M54.50": .4, "F32.9": .3}

# Medicines for a condition: (name, dose, frequency, RxCUI or "").
MEDICATIONS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "I10": (("Lisinopril 10 mg oral tablet", "10 mg", "once daily", "314076"),
            ("Amlodipine 5 mg oral tablet", "5 mg", "once daily", "197361"),
            ("Hydrochlorothiazide 25 mg oral tablet", "25 mg", "once daily in the morning", "310798")),
    "E11.9": (("Metformin 500 mg oral tablet", "500 mg", "twice daily with meals", "861007"),),
    "E78.5": (("Atorvastatin 20 mg oral tablet", "20 mg", "once daily at bedtime", "617310"),),
    "J45.909": (("Albuterol 90 mcg/actuation inhaler", "2 puffs", "every 4-6 hours as needed for wheezing",
                 "745679"),),
    "K21.9": (("Omeprazole 20 mg delayed-release capsule", "20 mg", "once daily before breakfast", ""),),
    "F32.9": (("Sertraline 50 mg oral tablet", "50 mg", "once daily", "312941"),),
    "F41.1": (("Escitalopram 10 mg oral tablet", "10 mg", "once daily", ""),),
    "E03.9": (("Levothyroxine 50 mcg oral tablet", "50 mcg", "once daily before breakfast", ""),),
    "M19.90": (("Acetaminophen 500 mg oral tablet", "1,000 mg", "up to three times daily as needed for pain",
                ""),),
    "J30.9": (("Cetirizine 10 mg oral tablet", "10 mg", "once daily", ""),),
    "G43.909": (("Sumatriptan 50 mg oral tablet", "50 mg", "at migraine onset; may repeat once after 2 hours",
                 ""),),
    "I48.91": (("Apixaban 5 mg oral tablet", "5 mg", "twice daily", "1364445"),),
    "J44.9": (("Tiotropium 18 mcg inhalation capsule", "18 mcg", "once daily, inhaled", ""),),
    "D50.9": (("Ferrous sulfate 325 mg oral tablet", "325 mg", "once daily", ""),),
    "F90.9": (("Methylphenidate 18 mg extended-release tablet", "18 mg", "once daily in the morning", ""),),
    "L20.9": (("Hydrocortisone 1% cream", "thin layer", "twice daily to affected skin", ""),),
}

# Allergies: (substance, reactions, severities to draw from, for children too?)
ALLERGIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Penicillin", ("Hives", "Rash", "Itching"), ("mild", "moderate", "moderate")),
    ("Peanuts", ("Anaphylaxis", "Swelling of lips and tongue"), ("severe",)),
    ("Latex", ("Contact dermatitis", "Itching"), ("mild",)),
    ("Sulfa drugs", ("Rash", "Hives"), ("mild", "moderate")),
    ("Shellfish", ("Hives and throat swelling", "Vomiting"), ("moderate", "severe")),
    ("Codeine", ("Nausea and vomiting",), ("moderate",)),
    ("Bee stings", ("Swelling at the sting site", "Anaphylaxis"), ("moderate", "severe")),
    ("Aspirin", ("Wheezing", "Hives"), ("moderate",)),
    ("Tree nuts", ("Hives", "Anaphylaxis"), ("moderate", "severe")),
    ("Eggs", ("Hives", "Stomach cramps"), ("mild",)),
    ("Amoxicillin", ("Rash",), ("mild", "unknown")),
    ("Ibuprofen", ("Stomach pain", "Hives"), ("mild",)),
    ("Cat dander", ("Sneezing and itchy eyes",), ("mild",)),
    ("Iodinated contrast", ("Hives", "Flushing"), ("moderate",)),
)
#: How each allergy is coded (issue 12): (category, formulary drug, drug class) — a drug from the
#: formulary, a drug class, a food or something in the environment.
ALLERGY_CODES: dict[str, tuple[str, str, str]] = {
    "Penicillin": ("drug_class", "", "penicillins"), "Sulfa drugs": ("drug_class", "", "sulfonamides"),
    "Amoxicillin": ("medication", "amoxicillin", ""), "Aspirin": ("medication", "aspirin", ""),
    "Ibuprofen": ("medication", "ibuprofen", ""), "Codeine": ("medication", "", ""),
    "Peanuts": ("food", "", ""), "Shellfish": ("food", "", ""), "Tree nuts": ("food", "", ""), "Eggs": ("food", "", ""),
    "Latex": ("environment", "", ""), "Bee stings": ("environment", "", ""), "Cat dander": ("environment", "", ""),
    "Iodinated contrast": ("other", "", ""),
}
#: The formulary entry of each demo medicine (its classes and RxNorm code are filed with it at intake).
MEDICATION_DRUGS: dict[str, str] = {
    "Lisinopril 10 mg oral tablet": "lisinopril", "Amlodipine 5 mg oral tablet": "amlodipine",
    "Hydrochlorothiazide 25 mg oral tablet": "hydrochlorothiazide", "Metformin 500 mg oral tablet": "metformin",
    "Atorvastatin 20 mg oral tablet": "atorvastatin", "Albuterol 90 mcg/actuation inhaler": "albuterol",
    "Omeprazole 20 mg delayed-release capsule": "omeprazole", "Sertraline 50 mg oral tablet": "sertraline",
    "Escitalopram 10 mg oral tablet": "escitalopram", "Levothyroxine 50 mcg oral tablet": "levothyroxine",
    "Acetaminophen 500 mg oral tablet": "acetaminophen", "Cetirizine 10 mg oral tablet": "cetirizine",
    "Apixaban 5 mg oral tablet": "apixaban",
}
#: Routes of the demo medicines that are not taken by mouth.
MEDICATION_ROUTES = {"Albuterol 90 mcg/actuation inhaler": "inhaled", "Tiotropium 18 mcg inhalation capsule": "inhaled",
                     "Hydrocortisone 1% cream": "topical"}
RELATIVES = ("Mother", "Father", "Sister", "Brother", "Maternal grandmother", "Maternal grandfather",
             "Paternal grandmother", "Paternal grandfather")
FAMILY_CONDITIONS = ("Type 2 diabetes", "Coronary artery disease", "Breast cancer", "Colon cancer",
                     "Hypertension", "Stroke", "Alzheimer's disease", "Asthma", "Depression", "Prostate cancer")

# Vaccines: (name, CVX)
FLU, FLU_HIGH_DOSE = ("Influenza, injectable, quadrivalent, preservative free", "150"), \
    ("Influenza, high-dose, quadrivalent", "197")
COVID = ("COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose", "208")
TDAP = ("Tdap", "115")
ZOSTER = ("Zoster, recombinant", "187")
PCV20 = ("Pneumococcal conjugate PCV20", "216")
HEPB_ADULT = ("Hepatitis B, adult", "43")
CHILDHOOD = (  # (vaccine, CVX, age in months at the last routine dose)
    ("Hepatitis B, pediatric/adolescent", "08", 6), ("Rotavirus, pentavalent", "116", 6),
    ("Hib (PRP-OMP)", "49", 12), ("Pneumococcal conjugate PCV13", "133", 12), ("MMR", "03", 48),
    ("Varicella", "21", 48), ("DTaP", "20", 48), ("IPV (polio)", "10", 48),
    ("Hepatitis A, pediatric/adolescent, 2 dose", "83", 18),
    ("Tdap", "115", 132), ("HPV, 9-valent", "165", 132), ("Meningococcal MCV4P", "114", 192),
)

# Payers: (payer, plans, member-id pattern) — "#" a digit, "A" a capital letter.
COMMERCIAL = (
    ("Blue Cross Blue Shield of Massachusetts", ("HMO Blue", "PPO Blue", "Blue Care Elect PPO"), "XJB#########"),
    ("Harvard Pilgrim Health Care", ("HMO", "PPO", "Tiered Network HMO"), "HP#########"),
    ("Tufts Health Plan", ("Advantage HMO", "Navigator PPO"), "#########01"),
    ("Aetna", ("Open Access Managed Choice", "PPO"), "W#########"),
    ("UnitedHealthcare", ("Choice Plus", "Navigate HMO"), "#########"),
    ("Cigna", ("Open Access Plus", "LocalPlus"), "U########01"),
)
MASSHEALTH = ("MassHealth", ("MassHealth Standard", "MassHealth CarePlus", "MassHealth Family Assistance"),
              "############")  # CarePlus is for adults 21-64
SUPPLEMENTS = (("Blue Cross Blue Shield of Massachusetts", "Medex 2 (Medicare supplement)", "XJM#########"),
               ("UnitedHealthcare", "AARP Medicare Supplement Plan G", "#########11"))
MEDICARE_ADVANTAGE = ("Tufts Health Plan", "Tufts Medicare Preferred HMO", "#########01")
#: Medicare Beneficiary Identifier letters (no S, L, O, I, B, Z).
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"

CONTACT_HOURS = ("Any time", "Any time", "Evenings", "Weekdays 9 am to 5 pm", "After 6 pm", "Weekends")


@dataclass(frozen=True)
class DemoPerson:
    """One generated patient: the registration draft, their MRN and their doctors (indices into the
    clinic's doctors: 0 the demo doctor (family medicine), 1 the pediatrician, 2 the internist)."""

    index: int
    mrn: str
    draft: RegistrationDraft
    doctors: tuple[int, ...]
    today: date

    @property
    def age(self) -> int:
        return age_on(date.fromisoformat(self.draft.basic["date_of_birth"]), self.today)

    @property
    def name(self) -> str:
        return f"{self.draft.basic['given_name']} {self.draft.basic['family_name']}"

    @property
    def condition_codes(self) -> tuple[str, ...]:
        return tuple(c["code"] for c in self.draft.history.get("conditions", []) if c.get("status") == "active")


def age_on(dob: date, today: date) -> int:
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def mrn_of(body: str) -> str:
    return mrn.PREFIX + body + mrn.luhn_digit(body)


@lru_cache(maxsize=4)
def _mrn_bodies(count: int) -> tuple[str, ...]:
    """The first `count` generated MRN bodies: random-looking, unique, a stable prefix for any count."""
    rng = seeded(f"demo-mrn-{FAKER_SEED}")
    seen, out = set(RESERVED_MRN_BODIES), []
    while len(out) < count:
        body = f"{rng.randrange(10**6, 10**7):07d}"
        if body not in seen:
            seen.add(body)
            out.append(body)
    return tuple(out)


def phone(slot: int) -> str:
    """A fictional number (555-01xx) for a slot; 800 slots before numbers repeat."""
    area = AREA_CODES[slot % len(AREA_CODES)]
    line = 100 + (slot // len(AREA_CODES)) % 100
    return f"+1 {area} 555 {line:04d}"


def _ascii(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _pattern(rng: random.Random, pattern: str) -> str:
    return "".join(str(rng.randrange(10)) if ch == "#" else rng.choice(MBI_LETTERS) if ch == "A" else ch
                   for ch in pattern)


def _mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier shaped like the real ones (e.g. 1EG4-TE5-MK73)."""
    alnum = MBI_LETTERS + "0123456789"
    parts = [str(rng.randrange(1, 10)), rng.choice(MBI_LETTERS), rng.choice(alnum), str(rng.randrange(10)),
             rng.choice(MBI_LETTERS), rng.choice(alnum), str(rng.randrange(10)), rng.choice(MBI_LETTERS),
             rng.choice(MBI_LETTERS), str(rng.randrange(10)), str(rng.randrange(10))]
    return "".join(parts[:4]) + "-" + "".join(parts[4:7]) + "-" + "".join(parts[7:])


def _between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return end
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _birthday(dob: date, years: int) -> date:
    try:
        return dob.replace(year=dob.year + years)
    except ValueError:  # 29 February
        return dob.replace(year=dob.year + years, day=28)


def _draw_age(rng: random.Random) -> int:
    band = _weighted(rng, (((0, 17), 21), ((18, 39), 27), ((40, 64), 33), ((65, 95), 19)))
    return rng.randint(*band)


def _band(age: int) -> int:
    return 0 if age < 18 else 1 if age < 45 else 2 if age < 65 else 3


class _Maker:
    """Draws one person; `rng` decides, `fake` names."""

    def __init__(self, index: int, today: date, fake) -> None:
        self.index, self.today, self.fake = index, today, fake
        self.rng = seeded(f"demo-person-{FAKER_SEED}-{index}")
        fake.seed_instance(FAKER_SEED + index)

    def _first(self, sex: str) -> str:
        return self.fake.first_name_female() if sex == "female" else self.fake.first_name_male()

    def _family(self) -> str:
        while True:
            family = re.sub(r"^Mc([a-z])", lambda m: "Mc" + m[1].upper(), self.fake.last_name())
            if family not in RESERVED_FAMILIES:
                return family

    def _email(self, given: str, family: str) -> str:
        domain = self.rng.choice(("example.com", "example.net", "example.org"))
        style = self.rng.randrange(3)
        local = (f"{_ascii(given)}.{_ascii(family)}" if style == 0 else f"{_ascii(given)[:1]}{_ascii(family)}"
                 if style == 1 else f"{_ascii(given)}{_ascii(family)[:1]}")
        return f"{local}{self.rng.randrange(10, 100)}@{domain}"

    def person(self, mrn_value: str) -> DemoPerson:
        rng, today = self.rng, self.today
        age = _draw_age(rng)
        sex = "female" if rng.random() < .51 else "male"
        dob = _between(rng, _birthday(today, -age - 1) + timedelta(days=1), _birthday(today, -age))
        given, family = self._first(sex), self._family()
        language = _weighted(rng, LANGUAGES)
        slots = [self.index * PHONES_PER_PERSON + k for k in range(PHONES_PER_PERSON)]
        contacts = self._contacts(age, family, language, slots[2:])
        basic = {"given_name": given, "family_name": family, "date_of_birth": dob.isoformat(), "sex": sex,
                 "preferred_language": language, "country": "US", "region": "MA"}
        city, postal = TOWNS[min(int(rng.expovariate(1 / 6)), len(TOWNS) - 1)]
        basic.update(address_line1=f"{rng.randint(1, 480)} {rng.choice(STREETS)}", city=city, postal_code=postal,
                     address_line2=f"Apt {rng.randint(1, 40)}" if rng.random() < .3 else "")
        if age >= 13 and (age >= 18 or rng.random() < .6):
            basic["phone_mobile"] = phone(slots[0]) if rng.random() < (.75 if age >= 80 else .95) else ""
        else:  # a child: the parent's mobile
            basic["phone_mobile"] = contacts[0]["phone"]
        if age >= 18 and rng.random() < (.6 if age >= 65 else .2):
            basic["phone_home"] = phone(slots[1])
        if age >= 18 and rng.random() < (.55 if age >= 80 else .85):
            basic["email"] = self._email(given, family)
        if not basic.get("phone_mobile") and not basic.get("phone_home"):
            basic["phone_home"] = phone(slots[1])
        methods = [("phone", 25)]
        if basic.get("phone_mobile"):
            methods.append(("sms", 45))
        if basic.get("email"):
            methods.append(("email", 25))
        methods.append(("mail", 5))
        basic["preferred_contact_method"] = _weighted(rng, methods)
        history = {"conditions": [], "medications": [], "allergies": self._allergies(age),
                   "family_history": self._family_history(), "immunizations": self._immunizations(dob, age)}
        self._conditions(dob, age, sex, history)
        insurance = self._insurance(dob, age, contacts)
        draft = RegistrationDraft(basic=basic, history=history, insurance=insurance, emergency=contacts)
        return DemoPerson(self.index, mrn_value, draft, self._doctors(age), today)

    # ---------------------------------------------------------------- parts

    def _contacts(self, age: int, family: str, language: str, slots: list[int]) -> list[dict[str, str]]:
        rng = self.rng
        if age < 18:
            kinds = ["Mother", "Father"] if rng.random() < .6 else ["Father", "Mother"]
            if rng.random() < .3:
                kinds[1] = rng.choice(("Grandmother", "Aunt", "Uncle"))
        elif age >= 75:
            kinds = [rng.choice(("Daughter", "Son")), rng.choice(("Spouse", "Son", "Daughter", "Neighbor"))]
        else:
            kinds = [rng.choice(("Spouse", "Spouse", "Partner", "Sister", "Brother", "Mother", "Friend")),
                     rng.choice(("Sister", "Brother", "Friend", "Mother", "Father"))]
        count = 2 if rng.random() < (.7 if age < 18 else .45) else 1
        out = []
        for number, (relationship, slot) in enumerate(zip(kinds[:count], slots, strict=False)):
            female = relationship in ("Mother", "Daughter", "Sister", "Grandmother", "Aunt") or (
                relationship in ("Spouse", "Partner", "Friend", "Neighbor") and rng.random() < .5)
            same_family = relationship not in ("Friend", "Neighbor", "Partner") and rng.random() < .75
            name = f"{self._first('female' if female else 'male')} {family if same_family else self._family()}"
            contact = {"name": name, "relationship": relationship, "phone": phone(slot),
                       "order": ("primary", "secondary")[number],
                       "preferred_contact_method": rng.choice(("phone", "phone", "sms")),
                       "hours": rng.choice(CONTACT_HOURS), "language": language}
            if rng.random() < .3:
                contact["email"] = self._email(*name.split(" ", 1))
            out.append(contact)
        return out

    def _allergies(self, age: int) -> list[dict[str, str]]:
        rng = self.rng
        count = _weighted(rng, ((0, 64), (1, 26), (2, 8), (3, 2)))
        pool = [a for a in ALLERGIES if age >= 12 or a[0] not in ("Codeine", "Iodinated contrast", "Latex")]
        out = [{"substance": substance, "reaction": rng.choice(reactions), "severity": rng.choice(severities)}
               for substance, reactions, severities in rng.sample(pool, count)]
        for allergy in out:  # coded after the draws, so the same people come out as before
            category, drug, drug_class = ALLERGY_CODES[allergy["substance"]]
            allergy.update({k: v for k, v in (("category", category), ("code", drug), ("drug_class", drug_class),
                                               ("criticality", "high" if allergy["severity"] == "severe" else "low"))
                            if v})
        return out

    def _family_history(self) -> list[dict[str, str]]:
        rng = self.rng
        if rng.random() >= .45:
            return []
        relatives = rng.sample(RELATIVES, rng.choice((1, 1, 2)))
        return [{"relative": r, "condition": rng.choice(FAMILY_CONDITIONS)} for r in relatives]

    def _conditions(self, dob: date, age: int, sex: str, history: dict) -> None:
        rng, band = self.rng, _band(age)
        for code, description, chances in CONDITIONS:
            chance = chances[band] * (1.8 if code == "E03.9" and sex == "female" else 1)
            if rng.random() >= chance:
                continue
            earliest = _birthday(dob, 18 if band else 1)
            earliest = max(earliest, _birthday(self.today, -30))
            onset = _between(rng, min(earliest, self.today), self.today - timedelta(days=30))
            onset = max(onset, dob)
            resolved = rng.random() < OFTEN_RESOLVED.get(code, 0)
            history["conditions"].append({"description": description, "code": code, "code_system": "ICD-10",
                                          "onset": onset.isoformat(), "status": "resolved" if resolved else "active"})
            if not resolved and code in MEDICATIONS and rng.random() < .85:
                options = MEDICATIONS[code]
                for name, dose, frequency, rxnorm in rng.sample(options, 2 if len(options) > 1 and rng.random() < .3
                                                                  else 1):
                    history["medications"].append({"name": name, "drug": MEDICATION_DRUGS.get(name, ""), "dose": dose,
                                                   "route": MEDICATION_ROUTES.get(name, "oral"),
                                                   "frequency": frequency, "rxnorm": rxnorm,
                                                   "start_date": onset.isoformat(), "status": "active",
                                                   "origin": "prescribed"})

    def _immunizations(self, dob: date, age: int) -> list[dict[str, str]]:
        rng, today = self.rng, self.today
        out: list[dict[str, str]] = []

        def give(vaccine: tuple[str, str], on: date) -> None:
            if dob <= on <= today:
                out.append({"vaccine": vaccine[0], "cvx": vaccine[1], "given_on": on.isoformat()})

        if age < 18:
            months = age * 12 + (today.month - dob.month) % 12
            for vaccine, cvx, at in CHILDHOOD:
                if months >= at and rng.random() < .93:
                    give((vaccine, cvx), dob + timedelta(days=int(at * 30.4) + rng.randrange(30)))
        season = date(today.year if today >= date(today.year, 9, 15) else today.year - 1, 9, 15)
        if age >= 1 and rng.random() < (.75 if age >= 65 else .5):
            give(FLU_HIGH_DOSE if age >= 65 else FLU, _between(rng, season, min(today, season + timedelta(days=75))))
        if age >= 5 and rng.random() < (.6 if age >= 65 else .35):
            give(COVID, _between(rng, season, min(today, season + timedelta(days=90))))
        if age >= 18:
            if rng.random() < .55:
                give(TDAP, _between(rng, _birthday(today, -9), today - timedelta(days=60)))
            if age >= 50 and rng.random() < .45:
                give(ZOSTER, _between(rng, max(_birthday(dob, 50), _birthday(today, -6)), today - timedelta(days=30)))
            if age >= 65 and rng.random() < .6:
                give(PCV20, _between(rng, max(_birthday(dob, 65), _birthday(today, -3)), today - timedelta(days=30)))
            if age < 60 and rng.random() < .15:
                give(HEPB_ADULT, _between(rng, _birthday(today, -12), today - timedelta(days=90)))
        return out

    def _policy(self, payer: str, plan: str, pattern: str, order: str, *, since: date,
                relationship: str = "self", subscriber: str = "", group: bool = True) -> dict[str, str]:
        rng = self.rng
        row = {"payer": payer, "plan": plan, "member_id": _pattern(rng, pattern), "relationship": relationship,
               "order": order, "effective_date": since.isoformat()}
        if group:
            row["group_number"] = str(rng.randrange(10000, 999999))
        if relationship != "self":
            row["subscriber_name"] = subscriber
        return row

    def _insurance(self, dob: date, age: int, contacts: list[dict[str, str]]) -> list[dict[str, str]]:
        rng, today = self.rng, self.today
        jan = date(today.year - rng.choice((0, 0, 1, 1, 2, 3, 5)), 1, 1)
        since = max(jan, dob)
        if age >= 65:
            start = _birthday(dob, 65).replace(day=1)
            if rng.random() < .25:
                payer, plan, pattern = MEDICARE_ADVANTAGE
                return [self._policy(payer, plan, pattern, "primary", since=max(start, jan), group=False)]
            medicare = {"payer": "Medicare", "plan": "Original Medicare (Parts A and B)", "member_id": _mbi(rng),
                        "relationship": "self", "order": "primary", "effective_date": start.isoformat()}
            if rng.random() < .7:
                payer, plan, pattern = rng.choice(SUPPLEMENTS)
                return [medicare, self._policy(payer, plan, pattern, "secondary", since=start, group=False)]
            return [medicare]
        if rng.random() < (.3 if age < 18 else .16):
            payer, plans, pattern = MASSHEALTH
            plans = plans if age >= 21 else tuple(p for p in plans if p != "MassHealth CarePlus")
            return [self._policy(payer, rng.choice(plans), pattern, "primary", since=since, group=False)]
        payer, plans, pattern = rng.choice(COMMERCIAL)
        if age < 18:
            parent = contacts[0]["name"]
            primary = self._policy(payer, rng.choice(plans), pattern, "primary", since=since, relationship="child",
                                   subscriber=parent)
        elif rng.random() < .2 and contacts[0]["relationship"] in ("Spouse", "Partner"):
            primary = self._policy(payer, rng.choice(plans), pattern, "primary", since=since,
                                   relationship="spouse" if contacts[0]["relationship"] == "Spouse" else "other",
                                   subscriber=contacts[0]["name"])
        else:
            primary = self._policy(payer, rng.choice(plans), pattern, "primary", since=since)
        out = [primary]
        if age >= 18 and rng.random() < .1:
            other = rng.choice([c for c in COMMERCIAL if c[0] != payer])
            spouse = next((c["name"] for c in contacts if c["relationship"] == "Spouse"), "")
            out.append(self._policy(other[0], rng.choice(other[1]), other[2], "secondary", since=since,
                                    relationship="spouse" if spouse else "self", subscriber=spouse))
        return out

    def _doctors(self, age: int) -> tuple[int, ...]:
        rng = self.rng
        choices = ((0, 40), (1, 60)) if age < 18 else ((0, 55), (2, 45))
        first = int(_weighted(rng, choices))
        if rng.random() < .28:
            second = rng.choice([d for d in (0, 1, 2) if d != first and (age < 21 or d != 1)])
            return (first, second)
        return (first,)


def people(count: int, today: date) -> list[DemoPerson]:
    """The first `count` generated patients as of `today` (person i is the same for any count)."""
    from faker import Faker

    fake = Faker("en_US")
    bodies = _mrn_bodies(max(0, count))
    return [_Maker(index, today, fake).person(mrn_of(bodies[index])) for index in range(max(0, count))]
