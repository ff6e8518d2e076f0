/*
 * kafkaauth.c - SourceAccessConfigurations to librdkafka settings
 * (kafkaauth.h).
 */
#include "pollers/kafkaauth.h"
#include "util/err.h"

#include <string.h>

static const struct {
	const char *type;
	enum kafkaauth_kind kind;
	int msk;                /* Amazon MSK takes it too */
} types[] = {
	{ "BASIC_AUTH", KAFKAAUTH_PLAIN, 0 },
	{ "SASL_SCRAM_256_AUTH", KAFKAAUTH_SCRAM_256, 0 },
	{ "SASL_SCRAM_512_AUTH", KAFKAAUTH_SCRAM_512, 1 },
	{ "CLIENT_CERTIFICATE_TLS_AUTH", KAFKAAUTH_MTLS, 1 },
};

int kafkaauth_plan(json_t *sacs, int msk, struct kafkaauth_plan *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	size_t i;
	json_t *sac;
	json_array_foreach(sacs, i, sac) {
		const char *type = json_string_value(json_object_get(sac, "Type"));
		const char *uri = json_string_value(json_object_get(sac, "URI"));
		if (!type)
			continue;
		if (!strcmp(type, "SERVER_ROOT_CA_CERTIFICATE") && !msk) {
			if (!uri || !*uri) {
				*why = "SERVER_ROOT_CA_CERTIFICATE has no URI";
				return LD_EINVAL;
			}
			out->ca_secret = uri;
			continue;
		}
		for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
			if (strcmp(type, types[k].type) || (msk && !types[k].msk))
				continue;
			if (out->kind != KAFKAAUTH_NONE) {
				*why = "more than one authentication type";
				return LD_EINVAL;
			}
			if (!uri || !*uri) {
				*why = "the authentication type has no URI";
				return LD_EINVAL;
			}
			out->kind = types[k].kind;
			out->auth_secret = uri;
		}
	}
	return 0;
}

static int set(json_t *conf, const char *name, const char *value)
{
	return json_object_set_new(conf, name, json_string(value));
}

/* a member of a secret that must be a non-empty string */
static const char *member(json_t *secret, const char *name)
{
	const char *v = json_string_value(json_object_get(secret, name));
	return v && *v ? v : NULL;
}

json_t *kafkaauth_conf(const struct kafkaauth_plan *plan, json_t *auth, json_t *ca, int sasl_plaintext,
		       const char **why)
{
	int sasl = plan->kind == KAFKAAUTH_PLAIN || plan->kind == KAFKAAUTH_SCRAM_256 ||
		   plan->kind == KAFKAAUTH_SCRAM_512;
	int tls = plan->kind == KAFKAAUTH_MTLS || plan->ca_secret || (sasl && !sasl_plaintext);
	json_t *conf = json_object();
	*why = "out of memory";
	if (!conf)
		return NULL;
	const char *proto = sasl ? (tls ? "SASL_SSL" : "SASL_PLAINTEXT") : tls ? "SSL" : "PLAINTEXT";
	if (set(conf, "security.protocol", proto))
		goto fail;
	if (sasl) {
		const char *user = member(auth, "username"), *pass = member(auth, "password");
		if (!user || !pass) {
			*why = "the secret is not {\"username\",\"password\"}";
			goto fail;
		}
		const char *mech = plan->kind == KAFKAAUTH_PLAIN       ? "PLAIN"
				   : plan->kind == KAFKAAUTH_SCRAM_256 ? "SCRAM-SHA-256"
								       : "SCRAM-SHA-512";
		if (set(conf, "sasl.mechanisms", mech) || set(conf, "sasl.username", user) ||
		    set(conf, "sasl.password", pass))
			goto fail;
	}
	if (plan->kind == KAFKAAUTH_MTLS) {
		const char *cert = member(auth, "certificate"), *key = member(auth, "privateKey");
		const char *pw = member(auth, "privateKeyPassword");
		if (!cert || !key) {
			*why = "the secret has no \"certificate\" and \"privateKey\"";
			goto fail;
		}
		if (set(conf, "ssl.certificate.pem", cert) || set(conf, "ssl.key.pem", key) ||
		    (pw && set(conf, "ssl.key.password", pw)))
			goto fail;
	}
	if (plan->ca_secret) {
		const char *cert = member(ca, "certificate");
		if (!cert) {
			*why = "the SERVER_ROOT_CA_CERTIFICATE secret has no \"certificate\"";
			goto fail;
		}
		if (set(conf, "ssl.ca.pem", cert))
			goto fail;
	}
	*why = NULL;
	return conf;
fail:
	json_decref(conf);
	return NULL;
}
