/*
 * load.c: reading the files the offline commands check (audit,
 * receipt).  Read-only; any failure ends the command with EXIT_ERR.
 */
#ifndef MVMCTL_LOAD_H
#define MVMCTL_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "note.h"

uint8_t	*load_file(const char *, size_t *);
uint8_t	*load_map(const char *, size_t *);
void	 load_unmap(uint8_t *, size_t);
void	 load_pubkey(const char *, uint8_t *, char *, size_t);
void	 load_note(const char *, const uint8_t *, struct checkpoint *, char *,
	    size_t);

#endif /* MVMCTL_LOAD_H */
