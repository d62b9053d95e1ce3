"""Web Push for patients: their devices' push subscriptions, the VAPID key, and the job that sends.

Front door: ``service`` (subscribe, unsubscribe, notify_patient, the "push" job). The texts say only
that there is something to read ("You have a new message") — never who, what or a word of it.
"""
