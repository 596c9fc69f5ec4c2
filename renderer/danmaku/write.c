/* write.c - placeholder, being written */
