/** One analysis window of `synscope watch`: its number (from 0) and its bounds in epoch seconds. */
export interface WatchWindow {
  index: number;
  start: number;
  end: number;
}
