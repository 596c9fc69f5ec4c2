/* read_json.c - placeholder, being written */
