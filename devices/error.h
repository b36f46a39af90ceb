/* A one-line error message carried back to whoever can report it. */
#ifndef DEVICES_ERROR_H
#define DEVICES_ERROR_H

struct error {
	char msg[256];
};

/* Formats the message into @err (if not NULL) and returns -1, so callers can
 * write `return error_setf(err, "...")`. Control characters (say, from a
 * quoted argument) become '?', so a message is always one line. */
int error_setf(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
