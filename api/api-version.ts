// The Docker Engine API version this service speaks. Clients read it from the API-Version
// header of /_ping and drop to it; 1.41 is what Debian's podman answers too, and what docker
// CLI 20.10 and 28 and docker-py 5-7 accept.
export const apiVersion = '1.41';
export const minApiVersion = '1.24';
