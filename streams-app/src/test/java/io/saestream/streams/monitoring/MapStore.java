package io.saestream.streams.monitoring;

import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jspecify.annotations.Nullable;

/** A read-only key-value store over a sorted map: a frozen copy of a store's contents. */
final class MapStore<V> implements ReadOnlyKeyValueStore<String, V> {

  private final NavigableMap<String, V> map;

  MapStore(Map<String, V> entries) {
    this.map = new TreeMap<>(entries);
  }

  /** A copy of everything in {@code store}. */
  static <V> MapStore<V> copyOf(ReadOnlyKeyValueStore<String, V> store) {
    Map<String, V> entries = new TreeMap<>();
    try (KeyValueIterator<String, V> it = store.all()) {
      it.forEachRemaining(kv -> entries.put(kv.key, kv.value));
    }
    return new MapStore<>(entries);
  }

  @Override
  public @Nullable V get(String key) {
    return map.get(key);
  }

  @Override
  public KeyValueIterator<String, V> range(String from, String to) {
    return iterator(map.subMap(from, true, to, true));
  }

  @Override
  public KeyValueIterator<String, V> all() {
    return iterator(map);
  }

  @Override
  public long approximateNumEntries() {
    return map.size();
  }

  private static <V> KeyValueIterator<String, V> iterator(Map<String, V> view) {
    Iterator<Map.Entry<String, V>> it = new TreeMap<>(view).entrySet().iterator();
    return new KeyValueIterator<>() {
      private Map.@Nullable Entry<String, V> peeked;

      @Override
      public boolean hasNext() {
        return peeked != null || it.hasNext();
      }

      @Override
      public KeyValue<String, V> next() {
        Map.Entry<String, V> e = peeked != null ? peeked : it.next();
        peeked = null;
        return KeyValue.pair(e.getKey(), e.getValue());
      }

      @Override
      public String peekNextKey() {
        if (peeked == null) {
          if (!it.hasNext()) {
            throw new NoSuchElementException();
          }
          peeked = it.next();
        }
        return peeked.getKey();
      }

      @Override
      public void close() {}
    };
  }
}
