// The worker role lands with the supervisor issue.
