/*
 * keyscli.c - `lambdad keys create|list|delete`: managing the access key
 * store (keys.h) from the command line, on a running server or not.
 *
 *   lambdad keys create --account-id ID [--user-name NAME] [--principal-arn ARN]
 *                       [--duration-seconds N] [--data-dir DIR]
 *   lambdad keys list [--account-id ID] [--data-dir DIR]
 *   lambdad keys delete ACCESS_KEY_ID [--data-dir DIR]   (or --access-key-id ID)
 *
 * create prints {"AccessKey": {...}} as `aws iam create-access-key` does (the
 * only time the secret is shown); list prints {"AccessKeyMetadata": [...]}
 * as `aws iam list-access-keys`, without secrets.
 */
#include "auth/keys.h"

#include "util/err.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: lambdad keys create --account-id ID [--user-name NAME] [--principal-arn ARN]\n"
	      "                           [--duration-seconds N] [--data-dir DIR]\n"
	      "       lambdad keys list [--account-id ID] [--data-dir DIR]\n"
	      "       lambdad keys delete ACCESS_KEY_ID [--data-dir DIR]\n"
	      "default: --data-dir ./data\n",
	      f);
}

static int print(json_t *doc)
{
	int rc = json_dumpf(doc, stdout, JSON_INDENT(4)) ? 1 : 0;
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

int keys_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },     { "account-id", required_argument, NULL, 'a' },
		{ "user-name", required_argument, NULL, 'u' },    { "principal-arn", required_argument, NULL, 'p' },
		{ "duration-seconds", required_argument, NULL, 't' }, { "access-key-id", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },               { NULL, 0, NULL, 0 },
	};
	const char *data_dir = "./data", *akid = NULL;
	struct keys_create_opts o = { 0 };
	json_t *doc = NULL;
	int c;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data_dir = optarg; break;
		case 'a': o.account_id = optarg; break;
		case 'u': o.user_name = optarg; break;
		case 'p': o.principal_arn = optarg; break;
		case 't': {
			char *end;
			o.duration_seconds = strtol(optarg, &end, 10);
			if (*end || end == optarg || o.duration_seconds <= 0) {
				fputs("lambdad keys: --duration-seconds must be a positive number\n", stderr);
				return 2;
			}
			break;
		}
		case 'k': akid = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!akid && optind < argc)
		akid = argv[optind++];
	if (!strcmp(cmd, "create")) {
		const char *why = NULL;
		int rc = keys_create(data_dir, &o, &doc, &why);
		if (rc) {
			fprintf(stderr, "lambdad keys: %s\n", why ? why : ld_strerror(rc));
			return rc == LD_EINVAL ? 2 : 1;
		}
		return print(doc);
	}
	if (!strcmp(cmd, "list")) {
		int rc = keys_list(data_dir, o.account_id, &doc);
		if (rc) {
			fprintf(stderr, "lambdad keys: cannot read the key store in %s: %s\n", data_dir, ld_strerror(rc));
			return 1;
		}
		return print(doc);
	}
	if (!strcmp(cmd, "delete")) {
		if (!akid) {
			usage(stderr);
			return 2;
		}
		int rc = keys_delete(data_dir, akid);
		if (rc == LD_ENOTFOUND) {
			fprintf(stderr, "lambdad keys: no access key %s\n", akid);
			return 1;
		}
		if (rc) {
			fprintf(stderr, "lambdad keys: %s\n", ld_strerror(rc));
			return 1;
		}
		return 0;
	}
	usage(stderr);
	return 2;
}
