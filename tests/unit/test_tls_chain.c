/*
 * tls_chain.h: the PEM gitlab-runner writes to CI_SERVER_TLS_CA_FILE
 * (order, one copy of each certificate, no final newline), reading PEM
 * back, and the certificate fields FF_RESOLVE_FULL_TLS_CHAIN follows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gitlab/tls_chain.h"

/* A self-signed root and an intermediate it signed, whose Authority
 * Information Access lists an OCSP URL, then a CA Issuers one. */
static const char root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBezCCASGgAwIBAgIUPXbryxtSdxpCuHi8bGaUgIU/MCIwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHdXQgcm9vdDAgFw0yNjEyMDcwOTAyNTVaGA8yMTI2MTExMzA5\n"
	"MDI1NVowEjEQMA4GA1UEAwwHdXQgcm9vdDBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
	"A0IABCaqCpuOXmDI5VRkRYaMnsrKMomjY+txGK6qhTzDYO0cYFdWIb68VAsJcWRl\n"
	"sihK7ig9fEkzVs+AWd7Ogm68jNujUzBRMB0GA1UdDgQWBBQygHVFP6X5zVGj0Rxx\n"
	"DlYfJhn09jAfBgNVHSMEGDAWgBQygHVFP6X5zVGj0RxxDlYfJhn09jAPBgNVHRMB\n"
	"Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCqkSt9MaYEj8h9OAqCNxsnArSg\n"
	"abjcLSzSTKnBAkyAhQIgHF79dJr8AZ7wGl37dQT0B2Cg275LXn+u3lEN6BWOCW8=\n"
	"-----END CERTIFICATE-----\n";
static const char inter_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIB2DCCAX6gAwIBAgIUQPhvmOzgtUYEe4UwicWeHhKrGQwwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHdXQgcm9vdDAgFw0yNjEyMDcwOTAyNTVaGA8yMTI2MTExMzA5\n"
	"MDI1NVowEzERMA8GA1UEAwwIdXQgaW50ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMB\n"
	"BwNCAAR4u5lKY6fKGbShwbLpAlm+qTp6pemf8U2vyxMC4moemhHpBwHKctbME3/P\n"
	"7U9fw9CgOyvWjzS6RIWJAbO5qDILo4GuMIGrMA8GA1UdEwEB/wQFMAMBAf8wWAYI\n"
	"KwYBBQUHAQEETDBKMCAGCCsGAQUFBzABhhRodHRwOi8vb2NzcC5leGFtcGxlLzAm\n"
	"BggrBgEFBQcwAoYaaHR0cDovL2NhLmV4YW1wbGUvcm9vdC5kZXIwHQYDVR0OBBYE\n"
	"FNf0WqiRjKCUCNMlHJNKOH3EipxbMB8GA1UdIwQYMBaAFDKAdUU/pfnNUaPRHHEO\n"
	"Vh8mGfT2MAoGCCqGSM49BAMCA0gAMEUCIHVDawu1AasevRYDByYI7LNPLN5I/9o7\n"
	"Y3lPudpJYsogAiEAjECUoSAdo/O2Qt6AaM4Lfy74Kp17eSWO12ZYbmiVwk0=\n"
	"-----END CERTIFICATE-----\n";

/* The PEM of the certificates, as gitlab-runner writes it. */
static char *joined(const char *a, const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	char *s = malloc(la + lb + 1);

	memcpy(s, a, la);
	if (b)
		memcpy(s + la, b, lb);
	s[la + lb - 1] = '\0';	/* no newline after the last block */
	return s;
}

/* Fills chain with the DER of pem's first certificate. */
static void der_of(const char *pem, struct tls_chain *one)
{
	struct buf err = BUF_INIT;

	assert_int_equal(tls_chain_add_pem(one, pem, &err), 1);
	buf_release(&err);
}

static void test_slots_written_in_order(void **state)
{
	struct tls_chain root = TLS_CHAIN_INIT, inter = TLS_CHAIN_INIT;
	struct tls_chain chain = TLS_CHAIN_INIT;
	struct buf out = BUF_INIT;
	char *want = joined(inter_pem, root_pem);

	(void)state;
	der_of(root_pem, &root);
	der_of(inter_pem, &inter);
	/* mbed TLS reports the trusted CA (depth 1) before the leaf. */
	tls_chain_put(&chain, 1, root.certs[0].data, root.certs[0].len);
	tls_chain_put(&chain, 0, inter.certs[0].data, inter.certs[0].len);
	tls_chain_write_pem(&chain, &out);
	assert_string_equal(out.data, want);
	free(want);
	buf_release(&out);
	tls_chain_release(&chain);
	tls_chain_release(&root);
	tls_chain_release(&inter);
}

static void test_duplicates_and_gaps_skipped(void **state)
{
	struct tls_chain root = TLS_CHAIN_INIT, chain = TLS_CHAIN_INIT;
	struct buf out = BUF_INIT;
	char *want = joined(root_pem, NULL);

	(void)state;
	der_of(root_pem, &root);
	tls_chain_put(&chain, 2, root.certs[0].data, root.certs[0].len);
	tls_chain_put(&chain, 3, root.certs[0].data, root.certs[0].len);
	assert_int_equal(chain.nr, 4);
	tls_chain_write_pem(&chain, &out);
	assert_string_equal(out.data, want);
	free(want);
	buf_reset(&out);
	tls_chain_release(&chain);
	tls_chain_write_pem(&chain, &out);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	tls_chain_release(&root);
}

static void test_pem_round_trip(void **state)
{
	struct tls_chain chain = TLS_CHAIN_INIT;
	struct buf out = BUF_INIT, err = BUF_INIT;
	char *text = joined(root_pem, inter_pem), *want = joined(root_pem, inter_pem);
	char *with_noise = malloc(strlen(text) + 64);

	(void)state;
	snprintf(with_noise, strlen(text) + 64, "subject=x\r\n%s\n-----BEGIN PRIVATE KEY-----\n", text);
	assert_int_equal(tls_chain_add_pem(&chain, with_noise, &err), 2);
	tls_chain_write_pem(&chain, &out);
	assert_string_equal(out.data, want);
	tls_chain_release(&chain);
	assert_int_equal(tls_chain_add_pem(&chain,
		"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
		&err), -1);
	assert_non_null(strstr(err.data, "base64"));
	buf_reset(&err);
	assert_int_equal(tls_chain_add_pem(&chain,
		"-----BEGIN CERTIFICATE-----\nAAAA\n", &err), -1);
	assert_non_null(strstr(err.data, "end line"));
	tls_chain_release(&chain);
	free(text);
	free(want);
	free(with_noise);
	buf_release(&out);
	buf_release(&err);
}

static void test_issuer_url_and_self_issued(void **state)
{
	struct tls_chain root = TLS_CHAIN_INIT, inter = TLS_CHAIN_INIT;
	struct buf url = BUF_INIT;
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

	(void)state;
	der_of(root_pem, &root);
	der_of(inter_pem, &inter);
	assert_true(tls_cert_issuer_url(inter.certs[0].data, inter.certs[0].len,
					&url));
	assert_string_equal(url.data, "http://ca.example/root.der");
	assert_false(tls_cert_issuer_url(root.certs[0].data, root.certs[0].len,
					 &url));
	assert_true(tls_cert_self_issued(root.certs[0].data, root.certs[0].len));
	assert_false(tls_cert_self_issued(inter.certs[0].data,
					  inter.certs[0].len));
	assert_true(tls_cert_is_der(inter.certs[0].data, inter.certs[0].len));
	assert_false(tls_cert_is_der(junk, sizeof(junk)));
	/* Cut short: no reading past the end. */
	assert_false(tls_cert_is_der(inter.certs[0].data, 40));
	assert_false(tls_cert_issuer_url(inter.certs[0].data,
					 inter.certs[0].len - 100, &url));
	buf_release(&url);
	tls_chain_release(&root);
	tls_chain_release(&inter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_written_in_order),
		cmocka_unit_test(test_duplicates_and_gaps_skipped),
		cmocka_unit_test(test_pem_round_trip),
		cmocka_unit_test(test_issuer_url_and_self_issued),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
