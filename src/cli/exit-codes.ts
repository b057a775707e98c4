/** sysexits.h codes: systemd and operators' scripts can tell a bad command line from a bad config file. */
export const EX_OK = 0;
export const EX_SOFTWARE = 70;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOINPUT = 66;
export const EX_CANTCREAT = 73;
export const EX_TEMPFAIL = 75;
export const EX_CONFIG = 78;
