/*
 * SPDX-License-Identifier: ISC
 * Copyright (c) 2026 The ampsd authors
 */

/*
 * appendix_a8.h: the SOW batch of docs/PROTOCOL.md Appendix A.8 (step 3)
 * typed in once as a hex dump, for the two codec tests that decode it
 * (check_header.c: the outer header; check_sow.c: the records).
 */

#ifndef APPENDIX_A8_H
#define APPENDIX_A8_H

/* One batch of two records, len 177 = 00 00 00 b1. */
#define A8_BATCH_HEX							\
    "00 00 00 b1 7b 22 63 22 3a 22 73 6f 77 22 2c 22"			\
    "74 22 3a 22 6f 72 64 65 72 73 22 2c 22 71 75 65"			\
    "72 79 5f 69 64 22 3a 22 34 22 2c 22 62 73 22 3a"			\
    "32 7d 7b 22 6b 22 3a 22 31 30 31 22 2c 22 62 6d"			\
    "22 3a 22 39 35 31 38 33 32 39 31 32 38 34 31 33"			\
    "33 38 31 32 34 35 7c 34 30 7c 22 2c 22 6c 22 3a"			\
    "31 36 7d 7b 22 69 64 22 3a 31 2c 22 71 74 79 22"			\
    "3a 35 7d 7b 22 6b 22 3a 22 31 30 32 22 2c 22 62"			\
    "6d 22 3a 22 39 35 31 38 33 32 39 31 32 38 34 31"			\
    "33 33 38 31 32 34 35 7c 34 31 7c 22 2c 22 6c 22"			\
    "3a 31 37 7d 7b 22 69 64 22 3a 32 2c 22 71 74 79"			\
    "22 3a 38 30 7d"

#endif /* APPENDIX_A8_H */
