"""The payment processor interface, and its built-in test processor.

The portal never stores a card number: a card is handed to the processor, which answers a token and
the last four digits, and only those are kept (``billing_payment.processor_token``/``card_last4``).
With a real processor the browser tokenizes the card with the processor's own script and the number
never reaches the portal at all; the test processor tokenizes on the server so the flow can run
without one. It is deterministic, with the usual test card numbers:

* ``4242 4242 4242 4242`` (Visa), ``5555 5555 5555 4444`` (Mastercard), ``3782 822463 10005``
  (American Express): approved.
* ``4000 0000 0000 0002``: declined ("card_declined").
* ``4000 0000 0000 9995``: declined ("insufficient_funds").
* Anything that fails the Luhn check, is expired or has a malformed security code is refused before
  any charge.

**The token flow.** The patient's browser sends the card to ``POST /api/billing/card-token`` (the
stand-in for a processor's own tokenizing script), which hands it to ``tokenize`` and answers the
token, brand and last four digits; the card number is never logged, kept or put in UI state. The
payment itself (``service.pay_with_token``) carries only the token, and ``describe`` tells the
service the brand and last four digits of a token. The test processor's tokens describe themselves
(brand, last four and the test card's outcome, then a random part) and end in an HMAC of all that
under a key of the key ring, so any app worker can charge a token another worker made while a token
typed by hand (a made-up "ok" token that no card stands behind) is declined; a real processor keeps
its tokens on its side.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from patient_portal.core import errors
from patient_portal.core.crypto import blind_index
from patient_portal.domain.billing.validation import luhn_ok

APPROVED = {"4242424242424242": "visa", "5555555555554444": "mastercard", "378282246310005": "amex"}
DECLINED = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}
DECLINE_WORDS = {"card_declined": "The card was declined. Try another card.",
                 "insufficient_funds": "The card was declined for insufficient funds. Try another card."}


class CardProblem(errors.Invalid):
    """The card was refused before any charge; ``field`` names the form field, the message is safe to show."""

    def __init__(self, field: str, message: str):
        super().__init__(message, errors={field: message})
        self.field = field


@dataclass(frozen=True)
class CardToken:
    token: str
    last4: str
    brand: str


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str = ""
    decline_code: str = ""


class PaymentProcessor(Protocol):
    name: str

    def tokenize(self, *, number: str, exp_month: str, exp_year: str, cvc: str, today: date) -> CardToken: ...

    def charge(self, *, token: str, amount_cents: int, idempotency_key: str) -> ChargeResult: ...

    def describe(self, token: str) -> CardToken | None: ...

    def refund(self, *, reference: str, amount_cents: int) -> ChargeResult: ...


class TestProcessor:
    """The built-in processor for demos and tests (module docstring); it moves no money."""

    __test__ = False  # not a pytest class
    name = "test"

    def __init__(self) -> None:
        self._charges: dict[str, ChargeResult] = {}

    def tokenize(self, *, number: str, exp_month: str, exp_year: str, cvc: str, today: date) -> CardToken:
        digits = re.sub(r"[\s-]", "", str(number or ""))
        if not digits.isdigit() or not 13 <= len(digits) <= 19 or not luhn_ok(digits):
            raise CardProblem("card_number", "Check the card number: it is not a valid card number.")
        try:
            month, year = int(str(exp_month).strip()), int(str(exp_year).strip())
        except ValueError:
            raise CardProblem("expiry", "Enter the expiry month and year, like 12 / 2030.") from None
        if year < 100:
            year += 2000
        if not 1 <= month <= 12 or (year, month) < (today.year, today.month):
            raise CardProblem("expiry", "This card has expired, or the expiry date is not right.")
        if not re.fullmatch(r"[0-9]{3,4}", str(cvc or "").strip()):
            raise CardProblem("cvc", "The security code is the 3 or 4 digits on the card.")
        brand = APPROVED.get(digits) or ("amex" if digits[:2] in ("34", "37") else
                                         "mastercard" if digits[0] == "5" else "visa" if digits[0] == "4" else "card")
        outcome = DECLINED.get(digits, "") or "ok"
        body = f"tok_test_{brand}_{digits[-4:]}_{outcome}_{secrets.token_hex(12)}"
        return CardToken(token=f"{body}.{_signature(body)}", last4=digits[-4:], brand=brand)

    def describe(self, token: str) -> CardToken | None:
        parts = _issued(token)
        return CardToken(token=token, last4=parts["last4"], brand=parts["brand"]) if parts else None

    def charge(self, *, token: str, amount_cents: int, idempotency_key: str) -> ChargeResult:
        if idempotency_key in self._charges:
            return self._charges[idempotency_key]
        parts = _issued(token)
        if parts is None:
            result = ChargeResult(False, decline_code="card_declined")
        elif parts["outcome"] != "ok":
            result = ChargeResult(False, decline_code=parts["outcome"])
        else:
            ref = "ch_test_" + hashlib.sha256(f"{token}:{idempotency_key}".encode()).hexdigest()[:16]
            result = ChargeResult(True, reference=ref)
        self._charges[idempotency_key] = result
        return result

    def refund(self, *, reference: str, amount_cents: int) -> ChargeResult:
        return ChargeResult(True, reference="re_" + hashlib.sha256(reference.encode()).hexdigest()[:16])


_TOKEN = re.compile(r"(?P<body>tok_test_(?P<brand>[a-z]{1,16})_(?P<last4>[0-9]{4})_"
                    r"(?P<outcome>ok|card_declined|insufficient_funds)_[0-9a-f]{24})\.(?P<sig>[A-Za-z0-9_-]{8,64})")


def _signature(body: str) -> str:
    """The HMAC that shows this processor issued `body` (the key ring's own key for it)."""
    return blind_index("test_processor_token", body, normalized=True) or ""


def _issued(token: str) -> re.Match[str] | None:
    """The token's parts when this processor issued it; None for anything else (made up, altered)."""
    parts = _TOKEN.fullmatch(str(token or ""))
    if parts is None or not hmac.compare_digest(parts["sig"], _signature(parts["body"])):
        return None
    return parts

_PROCESSOR: PaymentProcessor = TestProcessor()


def processor() -> PaymentProcessor:
    return _PROCESSOR


def use(implementation: PaymentProcessor) -> None:
    """Plug in a real processor."""
    global _PROCESSOR
    _PROCESSOR = implementation
