"""What grading leaves behind: results, feedback, grades tables, the gradebook, the class report, similarity and LMS exports."""
