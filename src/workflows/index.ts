export { inftyRun } from './run';
