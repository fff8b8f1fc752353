/** Size figures both sides mean the same way: the edge advertises and enforces them, the function re-checks. */

/** One mebibyte. Settings read "35MiB"; Exchange's "MB" in size limits is this binary unit too. */
export const MIB = 1024 * 1024;

/**
 * Exchange Online's ceiling for one message: a mailbox's MaxSendSize can be raised to 150 MB at most
 * (Exchange writes it "150 MB (157,286,400 bytes)"). The function refuses anything larger, so the edge must
 * too: BRIDGE_MAX_MESSAGE_BYTES cannot be set above it on either side.
 */
export const MAX_MESSAGE_BYTES_CEILING = 150 * MIB;

/** BRIDGE_MAX_MESSAGE_BYTES when unset, on both sides: Exchange Online's default MaxSendSize (35 MB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 35 * MIB;
