/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by xtfs's KUnit suites (module xtfs_test).
 */
#ifndef _XTFS_TEST_H
#define _XTFS_TEST_H

#include <kunit/test.h>
#include <linux/skbuff.h>

void xtfs_test_add_frags(struct kunit *test, struct sk_buff *skb,
			 const u8 *buf, u32 len);

#endif /* _XTFS_TEST_H */
