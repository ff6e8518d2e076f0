/*
 * runtimecli.h - `lambdad runtime list|install` (runtimecli.c): which Lambda
 * runtimes this host can run, and installing those that can be had here.
 */
#ifndef LD_RUNTIMECLI_H
#define LD_RUNTIMECLI_H

/* argv[0] is "runtime". Returns the process exit status. */
int runtimecli_main(int argc, char **argv);

#endif
