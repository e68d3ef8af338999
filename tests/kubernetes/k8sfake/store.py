"""The object store: one resourceVersion counter for every object (as etcd's
revision), a bounded history of changes for watches, and a condition
variable watchers wait on.  A watch that asks for a resourceVersion older
than the history keeps is answered with 410 Gone (reason Expired)."""

import collections
import copy
import threading

HISTORY = 2000


class Store:
    def __init__(self):
        self.cond = threading.Condition()
        self.rv = 1
        self.objects = {}      # (resource, namespace, name) -> object
        self.history = collections.deque()  # (rv, resource, ns, type, obj)
        self.oldest = 1        # watches from an rv below this are expired

    def _bump(self):
        self.rv += 1
        return str(self.rv)

    def get(self, resource, ns, name):
        with self.cond:
            obj = self.objects.get((resource, ns, name))
            return copy.deepcopy(obj) if obj is not None else None

    def list(self, resource, ns=None):
        """Objects of resource (in ns, or all namespaces when ns is None) and
        the list's resourceVersion."""
        with self.cond:
            items = [copy.deepcopy(o) for (r, n, _), o in
                     sorted(self.objects.items()) if r == resource and
                     (ns is None or n == ns)]
            return items, str(self.rv)

    def _record(self, resource, ns, etype, obj):
        self.history.append((self.rv, resource, ns, etype,
                             copy.deepcopy(obj)))
        while len(self.history) > HISTORY:
            old = self.history.popleft()
            self.oldest = old[0]
        self.cond.notify_all()

    def create(self, resource, ns, obj):
        """Stores obj (metadata.name set); False if the name is taken."""
        with self.cond:
            key = (resource, ns, obj["metadata"]["name"])
            if key in self.objects:
                return False
            obj["metadata"]["resourceVersion"] = self._bump()
            self.objects[key] = copy.deepcopy(obj)
            self._record(resource, ns, "ADDED", obj)
            return True

    def update(self, resource, ns, name, mutate):
        """Applies mutate(obj) to the stored object under the lock; mutate
        returns False to leave it unchanged.  Returns the new object or None
        when absent."""
        with self.cond:
            key = (resource, ns, name)
            obj = self.objects.get(key)
            if obj is None:
                return None
            new = copy.deepcopy(obj)
            if mutate(new) is False:
                return copy.deepcopy(obj)
            new["metadata"]["resourceVersion"] = self._bump()
            self.objects[key] = new
            self._record(resource, ns, "MODIFIED", new)
            return copy.deepcopy(new)

    def delete(self, resource, ns, name):
        with self.cond:
            obj = self.objects.pop((resource, ns, name), None)
            if obj is None:
                return None
            obj["metadata"]["resourceVersion"] = self._bump()
            self._record(resource, ns, "DELETED", obj)
            return copy.deepcopy(obj)

    def compact(self):
        """Forgets the watch history: every older resourceVersion expires."""
        with self.cond:
            self.history.clear()
            self.oldest = self.rv
            self.cond.notify_all()

    def events_after(self, rv, resource, ns):
        """History entries newer than rv; None when rv is too old."""
        with self.cond:
            if rv < self.oldest:
                return None
            return [h for h in self.history if h[0] > rv and h[1] == resource
                    and (ns is None or h[2] == ns)]

    def wake(self):
        with self.cond:
            self.cond.notify_all()
