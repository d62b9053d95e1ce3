"""Video visits: the two-way call of a telehealth appointment (a visit type with ``telehealth``).

Front door: ``service`` (who may join which call, when, and the audit of joining, admitting and
leaving), ``signalling`` (the relay of the browsers' WebRTC messages: in-process, or over Redis
pub/sub when REFLEX_REDIS_URL is set, so two peers meet whichever app worker they reach).

The media goes browser to browser (WebRTC); the server only relays the short signalling messages
and stores nothing of a call: no media, no chat (the chat runs over the peers' data channel), no
signalling. What is stored is the audit trail: who joined, was admitted and left, and when.
"""
