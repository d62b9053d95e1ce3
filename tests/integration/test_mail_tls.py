"""Mail goes over verified TLS: STARTTLS to a server whose certificate chains to a trusted CA works
(with SMTP authentication); a server with an untrusted certificate gets nothing."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from patient_portal.core import mail
from patient_portal.settings import reset_settings
from tests.mailbox import Mailbox


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _certificates(tmp_path):
    """A CA, and a server certificate for 127.0.0.1 signed by it; returns (ca file, cert file, key file)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Test CA")).issuer_name(_name("Test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now)
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    files = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return files


def _server(cert, key) -> Mailbox:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    logins = lambda _server, _session, _envelope, _mech, data: AuthResult(  # noqa: E731
        success=(data.login, data.password) == (b"portal", b"mail secret"))
    return Mailbox(tls_context=tls, require_starttls=True, authenticator=logins).start()


@pytest.fixture
def tls_files(tmp_path):
    return _certificates(tmp_path)


def _configure(monkeypatch, box: Mailbox) -> None:
    for name, value in {"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(box.port),
                        "PORTAL_SMTP_STARTTLS": "1", "PORTAL_SMTP_USERNAME": "portal",
                        "PORTAL_SMTP_PASSWORD": "mail secret"}.items():
        monkeypatch.setenv(name, value)
    reset_settings()


def test_starttls_to_a_trusted_server_with_a_login(monkeypatch, tls_files):
    ca, cert, key = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # what the server's certificate chains to
    box = _server(cert, key)
    try:
        _configure(monkeypatch, box)
        mail.send(mail.Mail(to="ana@clinic.org", subject="Hello", text="over TLS"))
        assert box.wait_for("ana@clinic.org")[0].get_content().strip() == "over TLS"
    finally:
        box.stop()


def test_a_server_with_an_untrusted_certificate_gets_nothing(monkeypatch, tls_files):
    _ca, cert, key = tls_files  # the CA is not trusted here
    box = _server(cert, key)
    try:
        _configure(monkeypatch, box)
        with pytest.raises(mail.MailNotSent, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            mail.send(mail.Mail(to="ana@clinic.org", subject="Hello", text="not over this"))
        assert box.messages == []
    finally:
        box.stop()
