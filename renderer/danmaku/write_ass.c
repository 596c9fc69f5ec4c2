/* write_ass.c - placeholder, being written */
