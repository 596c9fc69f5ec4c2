/* read_bilibili.c - placeholder, being written */
