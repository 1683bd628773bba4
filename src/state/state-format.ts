/** Every state file carries `v`; a reader refuses files from a newer format instead of misreading them. */
export const STATE_FORMAT = 1
