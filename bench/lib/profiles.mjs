// Load profiles (issue 3). Every profile is bounded: a fixed number of clients and writes, a
// fixed write window and a drain deadline after it. Rates are writes per second per writer.
export const PROFILES = {
  S: {
    title: '1 list x 50 clients, 5 writes/s each for 8 s, presence on',
    lists: 1, clientsPerList: 50, rate: 5, seconds: 8, presence: true
  },
  S0: {
    title: '1 list x 50 clients, 5 writes/s each for 8 s, presence off',
    lists: 1, clientsPerList: 50, rate: 5, seconds: 8, presence: false
  },
  M: {
    title: '100 lists x 5 clients, 2 writes/s each for 8 s',
    lists: 100, clientsPerList: 5, rate: 2, seconds: 8, presence: false
  },
  T: {
    title: '1 list x 20 clients, 50 writes/s each for 6 s (saturation)',
    lists: 1, clientsPerList: 20, rate: 50, seconds: 6, presence: false
  },
  // T offers 19,000 deliveries/s, which every server here keeps up with: X finds the ceiling
  X: {
    title: '1 list x 20 clients, 200 writes/s each for 5 s (beyond saturation; not a default)',
    lists: 1, clientsPerList: 20, rate: 200, seconds: 5, presence: false
  },
  C: {
    title: '2000 idle connections over 200 lists (memory per connection)',
    lists: 200, clientsPerList: 10, rate: 0, seconds: 0, presence: false, holdSeconds: 3
  },
  smoke: {
    title: '2 lists x 4 clients, 5 writes/s each for 2 s, presence on',
    lists: 2, clientsPerList: 4, rate: 5, seconds: 2, presence: true
  }
}

export const DEFAULT_PROFILES = ['S', 'S0', 'M', 'T', 'C']
