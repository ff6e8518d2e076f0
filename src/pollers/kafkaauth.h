/*
 * kafkaauth.h - what a Kafka mapping's SourceAccessConfigurations make of
 * its librdkafka consumer (pollers/ room; docs/pollers.md, "Kafka
 * authentication"). Pure: the secrets come in as documents (kafka.c reads
 * them from Secrets Manager) and the settings go out as names and values,
 * so that the mapping from AWS's names to librdkafka's is checked without a
 * broker (tests/unit/test_kafkaauth.c).
 *
 * AWS's types, and the secrets they name (Secrets Manager, SecretString):
 *   BASIC_AUTH                  SASL/PLAIN            {"username","password"}
 *   SASL_SCRAM_256_AUTH         SASL/SCRAM-SHA-256    {"username","password"}
 *   SASL_SCRAM_512_AUTH         SASL/SCRAM-SHA-512    {"username","password"}
 *   CLIENT_CERTIFICATE_TLS_AUTH mutual TLS            {"certificate" (PEM, chain),
 *                               "privateKey" (PEM), "privateKeyPassword" (optional)}
 *   SERVER_ROOT_CA_CERTIFICATE  the CA the brokers' certificates are checked
 *                               against               {"certificate" (PEM)}
 *   VPC_SUBNET, VPC_SECURITY_GROUP: accepted and of no use here.
 * Amazon MSK mappings take SASL_SCRAM_512_AUTH and CLIENT_CERTIFICATE_TLS_AUTH
 * (the others are ignored for them, as AWS has no use for them on MSK).
 *
 * As AWS, SASL runs over TLS (security.protocol SASL_SSL) and mutual TLS or
 * a root CA alone means TLS (SSL); with no authentication the consumer
 * speaks PLAINTEXT. A self-hosted cluster often runs SASL without TLS: the
 * daemon's --kafka-sasl-plaintext makes SASL mappings use SASL_PLAINTEXT
 * (sasl_plaintext below). At most one authentication type per mapping.
 */
#ifndef LD_POLLERS_KAFKAAUTH_H
#define LD_POLLERS_KAFKAAUTH_H

#include <jansson.h>

enum kafkaauth_kind {
	KAFKAAUTH_NONE,
	KAFKAAUTH_PLAIN,        /* BASIC_AUTH */
	KAFKAAUTH_SCRAM_256,
	KAFKAAUTH_SCRAM_512,
	KAFKAAUTH_MTLS,         /* CLIENT_CERTIFICATE_TLS_AUTH */
};

/* which secrets a mapping needs (strings borrowed from its document) */
struct kafkaauth_plan {
	enum kafkaauth_kind kind;
	const char *auth_secret;  /* the authentication type's URI (a secret ARN or name); NULL for NONE */
	const char *ca_secret;    /* SERVER_ROOT_CA_CERTIFICATE's URI, or NULL */
};

/* The plan of SourceAccessConfigurations sacs (an array; NULL: none) for an
 * Amazon MSK mapping (msk) or a self-managed one. 0, or LD_EINVAL with *why
 * set (two authentication types, a type without URI). */
int kafkaauth_plan(json_t *sacs, int msk, struct kafkaauth_plan *out, const char **why);

/* The librdkafka settings of plan, given the parsed SecretStrings of its
 * secrets (auth: plan->auth_secret's, ca: plan->ca_secret's; NULL when the
 * plan has none): a new object {"security.protocol": ..., "sasl.mechanisms":
 * ..., "sasl.username": ..., "ssl.ca.pem": ..., ...} of strings, set in
 * that order. NULL with *why set when a secret lacks what its type needs
 * (or out of memory). */
json_t *kafkaauth_conf(const struct kafkaauth_plan *plan, json_t *auth, json_t *ca, int sasl_plaintext,
		       const char **why);

#endif
