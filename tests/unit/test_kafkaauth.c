/*
 * test_kafkaauth.c - unit tests of pollers/kafkaauth.c: AWS's
 * SourceAccessConfigurations types to librdkafka's settings (protocol,
 * mechanism, credentials, PEMs), what Amazon MSK takes, the secrets'
 * shapes, and that librdkafka knows every setting name produced.
 */
#include "t.h"
#include "pollers/kafkaauth.h"
#include "util/err.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

static void check_dump(json_t *j, const char *want)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	CHECK_STR(s, want);
	free(s);
}

/* every setting is one librdkafka accepts */
static void check_librdkafka_takes(json_t *conf)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	const char *k;
	json_t *v;
	char err[256];
	json_object_foreach(conf, k, v) CHECK(rd_kafka_conf_set(c, k, json_string_value(v), err, sizeof(err)) ==
					      RD_KAFKA_CONF_OK);
	rd_kafka_conf_destroy(c);
}

static json_t *sacs(const char *text)
{
	return json_loads(text, 0, NULL);
}

static void test_plan(void)
{
	struct kafkaauth_plan p;
	const char *why = NULL;
	json_t *s = sacs("[{\"Type\":\"VPC_SUBNET\",\"URI\":\"subnet:s-1\"},{\"Type\":\"SASL_SCRAM_256_AUTH\",\"URI\":"
			 "\"arn:aws:secretsmanager:us-east-1:1:secret:k\"},{\"Type\":\"SERVER_ROOT_CA_CERTIFICATE\","
			 "\"URI\":\"ca\"}]");
	CHECK(kafkaauth_plan(s, 0, &p, &why) == 0);
	CHECK(p.kind == KAFKAAUTH_SCRAM_256);
	CHECK_STR(p.auth_secret, "arn:aws:secretsmanager:us-east-1:1:secret:k");
	CHECK_STR(p.ca_secret, "ca");
	/* MSK: SCRAM-256 and the root CA are not its; SCRAM-512 and mTLS are */
	CHECK(kafkaauth_plan(s, 1, &p, &why) == 0);
	CHECK(p.kind == KAFKAAUTH_NONE && !p.auth_secret && !p.ca_secret);
	json_decref(s);
	s = sacs("[{\"Type\":\"CLIENT_CERTIFICATE_TLS_AUTH\",\"URI\":\"m\"}]");
	CHECK(kafkaauth_plan(s, 1, &p, &why) == 0 && p.kind == KAFKAAUTH_MTLS);
	json_decref(s);
	s = sacs("[{\"Type\":\"BASIC_AUTH\",\"URI\":\"a\"},{\"Type\":\"SASL_SCRAM_512_AUTH\",\"URI\":\"b\"}]");
	CHECK(kafkaauth_plan(s, 0, &p, &why) == LD_EINVAL);
	CHECK_STR(why, "more than one authentication type");
	json_decref(s);
	s = sacs("[{\"Type\":\"BASIC_AUTH\"}]");
	CHECK(kafkaauth_plan(s, 0, &p, &why) == LD_EINVAL);
	json_decref(s);
	CHECK(kafkaauth_plan(NULL, 0, &p, &why) == 0 && p.kind == KAFKAAUTH_NONE);
}

static void test_conf(void)
{
	const char *why = NULL;
	json_t *up = json_pack("{s:s,s:s}", "username", "alice", "password", "s3cret");
	struct kafkaauth_plan plain = { KAFKAAUTH_PLAIN, "a", NULL };
	json_t *c = kafkaauth_conf(&plain, up, NULL, 0, &why);
	check_dump(c, "{\"security.protocol\":\"SASL_SSL\",\"sasl.mechanisms\":\"PLAIN\",\"sasl.username\":\"alice\","
		      "\"sasl.password\":\"s3cret\"}");
	check_librdkafka_takes(c);
	json_decref(c);
	/* --kafka-sasl-plaintext */
	struct kafkaauth_plan s512 = { KAFKAAUTH_SCRAM_512, "a", NULL };
	c = kafkaauth_conf(&s512, up, NULL, 1, &why);
	check_dump(c, "{\"security.protocol\":\"SASL_PLAINTEXT\",\"sasl.mechanisms\":\"SCRAM-SHA-512\","
		      "\"sasl.username\":\"alice\",\"sasl.password\":\"s3cret\"}");
	json_decref(c);
	/* a root CA keeps TLS even so */
	struct kafkaauth_plan s256 = { KAFKAAUTH_SCRAM_256, "a", "ca" };
	json_t *ca = json_pack("{s:s}", "certificate", "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n");
	c = kafkaauth_conf(&s256, up, ca, 1, &why);
	check_dump(c, "{\"security.protocol\":\"SASL_SSL\",\"sasl.mechanisms\":\"SCRAM-SHA-256\",\"sasl.username\":"
		      "\"alice\",\"sasl.password\":\"s3cret\",\"ssl.ca.pem\":\"-----BEGIN CERTIFICATE-----\\nX\\n"
		      "-----END CERTIFICATE-----\\n\"}");
	check_librdkafka_takes(c);
	json_decref(c);
	/* mutual TLS, with a key password */
	json_t *m = json_pack("{s:s,s:s,s:s}", "certificate", "CERT", "privateKey", "KEY", "privateKeyPassword", "pw");
	struct kafkaauth_plan mtls = { KAFKAAUTH_MTLS, "m", NULL };
	c = kafkaauth_conf(&mtls, m, NULL, 1, &why);
	check_dump(c, "{\"security.protocol\":\"SSL\",\"ssl.certificate.pem\":\"CERT\",\"ssl.key.pem\":\"KEY\","
		      "\"ssl.key.password\":\"pw\"}");
	check_librdkafka_takes(c);
	json_decref(c);
	/* a root CA alone: TLS without client authentication; nothing: plaintext */
	struct kafkaauth_plan only_ca = { KAFKAAUTH_NONE, NULL, "ca" };
	c = kafkaauth_conf(&only_ca, NULL, ca, 0, &why);
	CHECK(c && !strcmp(json_string_value(json_object_get(c, "security.protocol")), "SSL"));
	json_decref(c);
	struct kafkaauth_plan none = { KAFKAAUTH_NONE, NULL, NULL };
	c = kafkaauth_conf(&none, NULL, NULL, 0, &why);
	check_dump(c, "{\"security.protocol\":\"PLAINTEXT\"}");
	json_decref(c);
	/* secrets without what their type needs */
	json_t *bad = json_pack("{s:s}", "username", "alice");
	CHECK(!kafkaauth_conf(&plain, bad, NULL, 0, &why));
	CHECK_STR(why, "the secret is not {\"username\",\"password\"}");
	CHECK(!kafkaauth_conf(&mtls, up, NULL, 0, &why));
	CHECK(!kafkaauth_conf(&s256, up, bad, 0, &why));
	CHECK(!kafkaauth_conf(&plain, NULL, NULL, 0, &why));
	json_decref(bad);
	json_decref(m);
	json_decref(ca);
	json_decref(up);
}

int main(void)
{
	T_RUN(test_plan);
	T_RUN(test_conf);
	return t_done("test_kafkaauth");
}
