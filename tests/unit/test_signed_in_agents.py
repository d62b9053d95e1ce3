"""Sign-ins are shown by browser and system in plain words, never as the raw user-agent string."""

from __future__ import annotations

from patient_portal.domain.identity.signed_in import describe_agent

PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
         "Mobile Safari/537.36")
LAPTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_user_agents_are_described_in_plain_words():
    cases = {
        PHONE: "Chrome on Android",
        LAPTOP: "Firefox on Windows",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iPhone",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 "
        "Safari/537.36 Edg/131.0": "Edge on macOS",
        "": "Unknown browser",
        "curl/8.5.0": "Unknown browser",
    }
    for agent, described in cases.items():
        assert describe_agent(agent) == described, agent
