"""etcd as the storage backend: a transport-neutral client protocol, one implementation over
etcd's JSON gateway, the ``Backend`` on top of it, and a local cluster launcher."""
