// The supervisor role lands with the supervisor issue.
