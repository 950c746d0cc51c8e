export { AnalyticsSink } from './analytics-sink.ts';
export { AnalyticsService, MOBILE_DEVICES } from './analytics.service.ts';
export { reportToCsv } from './report-csv.ts';
