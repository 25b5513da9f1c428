// The labels this service puts on the containers and execs it makes.
/** The project a container or exec belongs to (X-Auth-Project-Id of whoever made it). */
export const projectLabel = 'io.syscontainer.project';
