/*
 * awsconf.c - endpoints, credentials and XML answers of outbound AWS calls (see awsconf.h).
 */
#include "aws/awsconf.h"
#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int set_field(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n >= cap)
		return LD_ETOOBIG;
	memcpy(dst, v, n + 1);
	return 0;
}

int aws_config_from_env(aws_config_t *cfg, const char *env_service, const char *host,
			const char *endpoint_override, const char *region)
{
	const char *endpoint = endpoint_override && *endpoint_override ? endpoint_override : NULL;
	const char *akid = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN");
	char var[64];
	int rc;

	memset(cfg, 0, sizeof *cfg);
	if (!region || !*region)
		region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	if (!region)
		region = "us-east-1";
	snprintf(var, sizeof var, "AWS_ENDPOINT_URL_%s", env_service);
	if (!endpoint)
		endpoint = env(var) ? env(var) : env("AWS_ENDPOINT_URL");
	if (endpoint) {
		rc = set_field(cfg->endpoint, sizeof cfg->endpoint, endpoint);
	} else {
		int n = snprintf(cfg->endpoint, sizeof cfg->endpoint, "https://%s.%s.amazonaws.com", host,
				 region);
		rc = n < 0 || (size_t)n >= sizeof cfg->endpoint ? LD_ETOOBIG : 0;
	}
	if (rc || (rc = set_field(cfg->region, sizeof cfg->region, region)) ||
	    (rc = set_field(cfg->access_key_id, sizeof cfg->access_key_id, akid ? akid : "test")) ||
	    (rc = set_field(cfg->secret_access_key, sizeof cfg->secret_access_key,
			    secret ? secret : "test")) ||
	    (rc = set_field(cfg->session_token, sizeof cfg->session_token, token ? token : "")))
		memset(cfg, 0, sizeof *cfg);
	return rc;
}

int aws_header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

int aws_endpoint_split(const char *endpoint, size_t *origin_len, const char **host,
		       size_t *host_len, size_t *prefix_len)
{
	const char *p;
	if (!strncasecmp(endpoint, "http://", 7))
		p = endpoint + 7;
	else if (!strncasecmp(endpoint, "https://", 8))
		p = endpoint + 8;
	else
		return LD_EINVAL;
	size_t n = strcspn(p, "/?#");
	if (n == 0 || memchr(p, '@', n) || !aws_header_safe(endpoint) || strpbrk(p + n, "?#"))
		return LD_EINVAL;
	const char *prefix = p + n;
	size_t plen = strlen(prefix);
	while (plen && prefix[plen - 1] == '/')
		plen--;
	*origin_len = (size_t)(prefix - endpoint);
	*host = p;
	*host_len = n;
	*prefix_len = plen;
	return 0;
}

int aws_xml_text(const char *body, size_t len, const char *tag, char *dst, size_t cap)
{
	static const struct {
		const char *ent;
		char c;
	} ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	char open[32], close[32];
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);

	const char *start = memmem(body, len, open, strlen(open));
	if (!start)
		return 0;
	start += strlen(open);
	const char *end = memmem(start, len - (size_t)(start - body), close, strlen(close));
	if (!end)
		return 0;

	size_t n = 0;
	for (const char *p = start; p < end && n + 1 < cap; n++) {
		size_t i, left = (size_t)(end - p);
		for (i = 0; i < sizeof ents / sizeof ents[0]; i++) {
			size_t elen = strlen(ents[i].ent);
			if (elen <= left && !memcmp(p, ents[i].ent, elen)) {
				dst[n] = ents[i].c;
				p += elen;
				break;
			}
		}
		if (i == sizeof ents / sizeof ents[0]) {
			unsigned char c = (unsigned char)*p++;
			dst[n] = c < ' ' || c == 0x7f ? ' ' : (char)c;
		}
	}
	dst[n] = '\0';
	return 1;
}
