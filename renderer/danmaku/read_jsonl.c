/* read_jsonl.c - placeholder, being written */
