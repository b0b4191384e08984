// The one seeded PRNG of the test suite (mulberry32, shared with the corpus generator in bench/):
// fuzz and property tests reproduce from their seed.
export {seededRandom as prng} from '../../bench/corpus-generator.js'
