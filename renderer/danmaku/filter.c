/* filter.c - placeholder, being written */
