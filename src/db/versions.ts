// Row versions. A task's or user's ETag names its `version`, a counter every statement that changes
// the row moves on, with updated_at. (A counter, not updated_at itself: two changes can share a
// clock tick, and Citus refuses both triggers and column arithmetic on timestamps in an UPDATE.)
export const NEXT_VERSION = "version = version + 1, updated_at = now()";
